import type { NextConfig } from 'next';

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server in server/ owns /api, /whip, /live; Next serves pages only.
  typescript: { ignoreBuildErrors: false },
};

export default config;
