/** A notice after an action: an error is an alert, anything else a status (both read out by screen readers). */
export function Notice({ text, error }: { text: string | undefined; error?: boolean | undefined }) {
  if (!text) return null;
  return error ? (
    <p class="notice error" role="alert">
      {text}
    </p>
  ) : (
    <p class="notice" role="status">
      {text}
    </p>
  );
}
