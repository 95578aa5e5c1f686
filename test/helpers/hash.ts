import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** sha256 and byte count of a web stream (a fetch body), without buffering it. */
export async function hashWebStream(body: ReadableStream<Uint8Array>): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    size += value.byteLength;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

/** Map of `sha256:<hex>` → actual sha256 of the content, for every blob of an OCI layout. */
export async function hashLayoutBlobs(layoutDir: string): Promise<Map<string, string>> {
  const dir = join(layoutDir, 'blobs', 'sha256');
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) out.set(`sha256:${name}`, await sha256File(join(dir, name)));
  return out;
}
