import { ErrorState, Loading } from '../components/states.js';
import { ExtensionView, extensionLabel, offered, useExtensions, useExtensionsLoaded } from '../extensions.js';
import { useSession } from '../session-context.js';

/** A navigation page contributed by a plugin: its title, then its module. */
export function PluginPage({ plugin, id }: { plugin: string; id: string }) {
  const { user } = useSession();
  const page = useExtensions('navigation').find((e) => e.plugin === plugin && e.id === id && offered(e, user));
  const loaded = useExtensionsLoaded();
  if (!page && !loaded) return <Loading />;
  if (!page) return <ErrorState message="" status={404} />;
  return (
    <section aria-labelledby="plugin-page-title">
      <h1 id="plugin-page-title">{extensionLabel(page)}</h1>
      <ExtensionView extension={page} user={user} />
    </section>
  );
}
