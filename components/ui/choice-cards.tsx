import { cx } from './cx.ts';

/** One choice: its value, a title and a one-line hint. */
export type Choice<T extends string> = readonly [value: T, title: string, hint: string];

export interface ChoiceCardsProps<T extends string> {
  /** The radio group's name (unique on the page). */
  name: string;
  choices: readonly Choice<T>[];
  value: T;
  onChange: (value: T) => void;
  columns?: 2 | 3;
}

/** Radio buttons as cards (title and hint), for a small exclusive choice such as a mode. */
export function ChoiceCards<T extends string>({
  name,
  choices,
  value,
  onChange,
  columns = 2,
}: ChoiceCardsProps<T>) {
  return (
    <div className={cx('grid grid-cols-1 gap-2', columns === 3 ? 'sm:grid-cols-3' : 'sm:grid-cols-2')}>
      {choices.map(([v, title, hint]) => (
        <label
          key={v}
          className="flex cursor-pointer flex-col rounded-md border border-zinc-700 px-3 py-2 text-sm has-checked:border-sky-500 has-checked:bg-sky-950/40 has-focus-visible:outline-2 has-focus-visible:outline-sky-400"
        >
          <span className="flex items-center gap-2 font-medium">
            <input
              type="radio"
              name={name}
              value={v}
              checked={value === v}
              onChange={() => onChange(v)}
              className="accent-sky-500"
            />
            {title}
          </span>
          <span className="text-xs text-zinc-400">{hint}</span>
        </label>
      ))}
    </div>
  );
}

/** ChoiceCards under a legend, in a fieldset that `disabled` turns off as a whole. */
export function ChoiceFieldset<T extends string>({
  legend,
  disabled,
  ...cards
}: ChoiceCardsProps<T> & { legend: string; disabled: boolean }) {
  return (
    <fieldset className="flex flex-col gap-1" disabled={disabled}>
      <legend className="mb-1 text-xs font-medium text-zinc-300">{legend}</legend>
      <ChoiceCards {...cards} />
    </fieldset>
  );
}
