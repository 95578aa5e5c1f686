import type { ImageBlob, OciImage } from '@wharf/sdk-testing';
import { pushBlob } from '@wharf/sdk-testing';

/** Raw answer of a manifest PUT or DELETE on /v2/: status and the OCI error body. */
export interface V2Answer {
  readonly status: number;
  readonly body: { errors?: { code: string; message: string; detail?: unknown }[] } | undefined;
}

async function answer(res: Response): Promise<V2Answer> {
  const text = await res.text();
  let body: V2Answer['body'];
  try {
    body = text ? (JSON.parse(text) as V2Answer['body']) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** Pushes an image's blobs, then its manifest under `tag`, and answers the manifest PUT as it came. */
export async function tryPush(url: string, repository: string, tag: string, image: OciImage, authorization?: string): Promise<V2Answer> {
  for (const blob of [image.config, ...image.layers] as ImageBlob[]) await pushBlob(url, repository, blob, { authorization });
  const headers: Record<string, string> = { 'content-type': image.manifest.mediaType, ...(authorization ? { authorization } : {}) };
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers, body: image.manifest.bytes });
  return answer(res);
}

/** DELETE /v2/<repository>/manifests/<reference>. */
export async function tryDelete(url: string, repository: string, reference: string, authorization?: string): Promise<V2Answer> {
  return answer(await fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'DELETE', headers: authorization ? { authorization } : {} }));
}
