/** A few lines of DOM building, so the module needs no framework (and the page's CSP no inline code). */

type Child = Node | string | false | null | undefined;
type Attrs = Record<string, string | boolean | number | ((e: Event) => void) | undefined>;

/** `h('button', { class: 'primary', onclick: fn }, 'Save')`: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (name === 'checked' && value === true) (el as HTMLInputElement).checked = true;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children.flat()) if (c !== false && c !== null && c !== undefined) el.append(c);
  return el;
}

let nextId = 0;
/** A unique element id (for label `for` and `aria-describedby`). */
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** A modal on the native <dialog> (focus, Escape and inertness from the browser), removed once closed. */
export function openDialog(title: string, body: (close: () => void) => Node[]): HTMLDialogElement {
  const id = uid('wh-dialog');
  const dialog = h('dialog', { 'aria-labelledby': id });
  const close = () => dialog.close();
  dialog.append(h('h2', { id }, title), ...body(close));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
