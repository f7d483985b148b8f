import type { ComponentType } from 'react';
import { ConsoleShell, type ConsoleSection } from './console-shell.tsx';

/** A console page without route parameters: `Page` inside the signed-in frame, its `section` tab marked. */
export function consoleRoute(Page: ComponentType, section?: ConsoleSection) {
  return function ConsoleRoute() {
    return (
      <ConsoleShell {...(section ? { section } : {})}>
        <Page />
      </ConsoleShell>
    );
  };
}
