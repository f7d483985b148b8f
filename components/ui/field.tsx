import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from 'react';
import { cx } from './cx.ts';

export const inputClasses =
  'h-10 w-full rounded-md border border-zinc-700 bg-zinc-950 px-3 text-sm text-zinc-100 placeholder:text-zinc-500 focus:border-sky-500 focus:outline-none focus:ring-1 focus:ring-sky-500 disabled:opacity-60 aria-[invalid=true]:border-red-500';

/** A label, the control, an optional hint and an inline error tied to the control by id. */
export function Field({
  id,
  label,
  hint,
  error,
  children,
  className,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div className={cx('flex min-w-0 flex-col gap-1', className)}>
      <label htmlFor={id} className="text-xs font-medium text-zinc-300">
        {label}
      </label>
      {children}
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-zinc-500">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="text-xs text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}

/** aria attributes for a control inside a Field. */
export function fieldAria(id: string, error: string | undefined, hasHint = false) {
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-error` : hasHint ? `${id}-hint` : undefined,
  } as const;
}

/** A Field around an Input that holds a string (numbers too, as typed: the form's schema checks them). */
export function InputField({
  id,
  label,
  hint,
  error,
  value,
  onValue,
  ...input
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>) {
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      <Input
        {...fieldAria(id, error, hint !== undefined)}
        {...input}
        value={value}
        onChange={(e) => onValue(e.target.value)}
      />
    </Field>
  );
}

/** A number as typed, for a form's schema to check: empty is NaN (where `Number('')` would be 0). */
export function typedNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** A number field's control id, the form's key for it, its label and hint, and optionally [min, max, step]. */
export type NumberFieldSpec<K extends string> = readonly [
  id: string,
  key: K,
  label: string,
  hint: string,
  range?: readonly [min: number, max: number, step: number],
];

/** Numbers as typed (strings: the form's schema checks them), an InputField each. */
export function NumberFields<K extends string>({
  fields,
  values,
  errors,
  onValue,
}: {
  fields: readonly NumberFieldSpec<K>[];
  values: Readonly<Record<K, string>>;
  errors: Partial<Record<string, string>>;
  onValue: (key: K, value: string) => void;
}) {
  return (
    <>
      {fields.map(([id, key, label, hint, range]) => (
        <InputField
          key={id}
          id={id}
          label={label}
          hint={hint}
          error={errors[key]}
          {...(range ? { type: 'number', min: range[0], max: range[1], step: range[2] } : {})}
          inputMode="numeric"
          value={values[key]}
          onValue={(value) => onValue(key, value)}
        />
      ))}
    </>
  );
}

export function Input({ className, ...rest }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={cx(inputClasses, className)} {...rest} />;
}

export function Select({ className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select className={cx(inputClasses, 'pr-8', className)} {...rest}>
      {children}
    </select>
  );
}
