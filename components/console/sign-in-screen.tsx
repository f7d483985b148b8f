import { Brand } from './brand.tsx';
import { SignInForm } from './sign-in-form.tsx';

export function SignInScreen({ next }: { next: string }) {
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-10">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex justify-center text-xl">
          <Brand />
        </div>
        <div className="rounded-lg border border-zinc-800 bg-zinc-900/70 p-6 shadow-xl">
          <h1 className="text-lg font-semibold">Sign in</h1>
          <p className="mt-1 mb-5 text-sm text-zinc-400">Enter the admin token to run your channels.</p>
          <SignInForm next={next} />
        </div>
      </div>
    </main>
  );
}
