import { Alert } from '../ui/alert.tsx';
import { Button } from '../ui/button.tsx';

/** A poll that failed: what could not be loaded, why, and a retry. */
export function LoadError({ what, error, onRetry }: { what: string; error: string; onRetry: () => void }) {
  return (
    <Alert
      tone="error"
      action={
        <Button size="sm" variant="ghost" onClick={onRetry}>
          Retry
        </Button>
      }
    >
      Could not load {what}. {error}
    </Alert>
  );
}
