import { useEffect, useState } from 'preact/hooks';

/**
 * A text input's value that follows typing at once, and calls `commit` once typing pauses: a
 * search box asks the server once per pause, not per keystroke.
 */
export function useDebouncedInput(value: string, commit: (v: string) => void, ms = 250): [string, (v: string) => void] {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => commit(text), ms);
    return () => clearTimeout(timer);
  }, [text]);
  return [text, setText];
}
