/**
 * The host clients pull from: the page's own host (the UI is served by the registry itself).
 * `docker pull` wants no scheme.
 */
export function registryHost(): string {
  return window.location.host;
}
