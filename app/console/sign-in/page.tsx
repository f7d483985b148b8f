import type { Metadata } from 'next';
import { safeNextPath } from '../../../components/console/format.ts';
import { SignInScreen } from '../../../components/console/sign-in-screen.tsx';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { next } = await searchParams;
  return <SignInScreen next={safeNextPath(typeof next === 'string' ? next : undefined)} />;
}
