export function ConsoleHome() {
  return (
    <main className="mx-auto flex max-w-5xl flex-col gap-6 px-4 py-10">
      <header className="flex items-center gap-3">
        <span className="inline-block h-3 w-3 rounded-full bg-red-500" aria-hidden />
        <h1 className="text-2xl font-semibold tracking-tight">onair console</h1>
      </header>
      <p className="text-zinc-400">
        Create a channel, go live over WHIP from a browser or OBS, and play it as HLS or MPEG-DASH.
      </p>
      <section aria-label="Getting started" className="rounded-lg border border-zinc-800 bg-zinc-900 p-5">
        <h2 className="mb-2 text-lg font-medium">Getting started</h2>
        <ol className="list-decimal space-y-1 pl-5 text-sm text-zinc-300">
          <li>Find the admin token printed on the server&apos;s first start (or set ONAIR_ADMIN_TOKEN).</li>
          <li>
            Create a channel: <code className="text-zinc-100">POST /api/v1/channels</code>.
          </li>
          <li>Start it, then publish to its WHIP URL with the channel&apos;s stream key.</li>
        </ol>
      </section>
    </main>
  );
}
