import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Networks webhook deliveries of the built-in kinds (`http`, `slack`) never connect to. A
 * project admin or maintainer chooses a policy's address, so without this a project role could
 * make the registry send requests to what only the registry's host reaches. The default denies
 * link-local addresses and the cloud metadata services, which no receiver lives on; receivers on
 * loopback and private networks (a CI server inside the network) stay allowed, and an operator
 * adds those ranges when the registry should not reach them.
 *
 * Checked twice: when a policy is saved (an address that is an IP in a denied network is refused)
 * and on every connection (the host name's addresses as resolved then, so a name that later
 * points elsewhere, DNS rebinding included, is caught at send time).
 */
export const DEFAULT_DENIED_NETWORKS: readonly string[] = Object.freeze([
  '169.254.0.0/16',
  'fe80::/10',
  // Alibaba Cloud's metadata service (AWS, GCP and Azure use 169.254.169.254).
  '100.100.100.200/32',
  // AWS's IPv6 metadata endpoint.
  'fd00:ec2::254/128',
]);

export class NetworkGuard {
  readonly #denied = new BlockList();
  readonly #networks: readonly string[];

  /** Throws a TypeError naming a network that is not `address/prefix`. */
  constructor(networks: readonly string[]) {
    this.#networks = [...networks];
    for (const network of networks) {
      const [address, prefix] = network.split('/');
      const family = isIP(address ?? '');
      const bits = Number(prefix);
      if (!address || family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
        throw new TypeError(`"${network}" is not a network (address/prefix, e.g. 10.0.0.0/8 or fd00::/8)`);
      }
      this.#denied.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Why `ip` may not be sent to, or `undefined` when it may. */
  check(ip: string): string | undefined {
    const family = isIP(ip);
    if (family === 0) return undefined;
    // BlockList checks an IPv4 address written as IPv6 (::ffff:a9fe:101) against the IPv4 networks too.
    const denied = this.#denied.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    return denied ? `address ${ip} is in a network webhooks may not reach (delivery.deniedNetworks: ${this.#networks.join(', ')})` : undefined;
  }

  /** The check for a URL's host when it is an IP address (`[::1]` included); names pass here and are checked on connect. */
  checkHost(hostname: string): string | undefined {
    return this.check(hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);
  }

  /** A `lookup` for node's HTTP clients: resolves as usual, and fails when any address is denied. */
  readonly lookup: LookupFunction = (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', undefined);
      for (const { address } of addresses) {
        const reason = this.check(address);
        if (reason) return callback(Object.assign(new Error(`${hostname}: ${reason}`), { code: 'EWEBHOOKDENIED' }), options.all ? [] : '', undefined);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', undefined);
      callback(null, first.address, first.family);
    });
  };
}
