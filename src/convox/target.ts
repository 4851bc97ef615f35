/**
 * Which rack we talk to, and how: resolved from the action inputs and the environment variables
 * the Convox CLI reads (`RACK_URL`, `CONVOX_HOST`, `CONVOX_PASSWORD`, `CONVOX_RACK`). Pure.
 *
 * Precedence: the `rack-host` / `rack-password` inputs win; with both empty `RACK_URL` (a full
 * rack URL with the password as userinfo) is used, as the CLI lets it beat everything else;
 * otherwise `CONVOX_HOST` / `CONVOX_PASSWORD` fill what the inputs leave empty. A `rack` name
 * (input, else `CONVOX_RACK`) means the host is a Console that proxies to that rack.
 *
 * Hosts: a bare host (`console.convox.com`, `rack.example.com:5443`) gets `https://`, as the CLI
 * does with `CONVOX_HOST`. Plain `http://` is accepted for loopback hosts, or elsewhere only with
 * `rack-insecure-tls: true` (the person has opted out of transport security explicitly).
 */
import { ActionError } from '../errors.js';

/** Where the rack API is and how to authenticate to it. */
export interface RackTarget {
  /** `scheme://host[:port][/path]`, no userinfo, no trailing slash. */
  baseUrl: string;
  password: string;
  /** Basic-auth user name: `convox`, or `jwt` when RACK_URL carries a rack-signed token. */
  username: string;
  /** Console mode: the rack name sent in the `Rack` header. */
  rack?: string;
  insecureTls: boolean;
  /** Which inputs / variables the target came from, for messages. */
  source: string;
  /** Where the password came from (`rack-password`, `CONVOX_PASSWORD`, `RACK_URL`), for 401 messages. */
  passwordSource: string;
}

/** The raw strings the config layer hands over (empty string = not given). */
export interface RackInputs {
  rack?: string;
  rackHost?: string;
  rackPassword?: string;
  insecureTls: boolean;
}

export const DEFAULT_CONSOLE_HOST = 'console.convox.com';
const PASSWORD_FIX =
  'set the rack-password input (a Console deploy key or the rack password), e.g. rack-password: ${{ secrets.CONVOX_DEPLOY_KEY }}, or the CONVOX_PASSWORD environment variable';

/**
 * Resolves the rack target.
 * @throws ActionError naming the input at fault (`rack-host`, `rack-password`, `rack`, `rack-insecure-tls`).
 */
export function resolveRackTarget(inputs: RackInputs, env: NodeJS.ProcessEnv): RackTarget {
  const given = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);
  // The action.yml default reads the same as "not given", so RACK_URL / CONVOX_HOST still apply.
  const hostGiven = given(inputs.rackHost);
  const host = hostGiven === DEFAULT_CONSOLE_HOST ? undefined : hostGiven;
  const password = given(inputs.rackPassword);
  const rackInput = given(inputs.rack);
  const rackUrl = given(env.RACK_URL);
  if (!host && !password && rackUrl) return fromRackUrl(rackUrl, rackInput, inputs.insecureTls);

  const hostText = host ?? given(env.CONVOX_HOST) ?? DEFAULT_CONSOLE_HOST;
  const hostInput = host ? 'rack-host' : given(env.CONVOX_HOST) ? 'CONVOX_HOST' : 'rack-host (default)';
  const rack = rackInput ?? given(env.CONVOX_RACK);
  const url = parseHost(hostText, hostInput.startsWith('rack-host') ? 'rack-host' : hostInput, inputs.insecureTls);
  const secret = password ?? given(env.CONVOX_PASSWORD) ?? url.password;
  const passwordSource = password ? 'rack-password' : given(env.CONVOX_PASSWORD) ? 'CONVOX_PASSWORD' : 'rack-host';
  if (!secret) {
    throw new ActionError('no rack password or Console deploy key was given', { input: 'rack-password' }, PASSWORD_FIX);
  }
  if (!rack && url.host === DEFAULT_CONSOLE_HOST) {
    throw new ActionError(
      `${DEFAULT_CONSOLE_HOST} is a Console, which needs the name of the rack to deploy to`,
      { input: 'rack' },
      'set the rack input (e.g. rack: acme/production), or point rack-host at the rack API itself',
    );
  }
  if (inputs.insecureTls && url.host === DEFAULT_CONSOLE_HOST) {
    throw new ActionError(
      `${DEFAULT_CONSOLE_HOST} has a public certificate; turning verification off would only weaken the connection`,
      { input: 'rack-insecure-tls' },
      'remove rack-insecure-tls (it is meant for racks reached directly with a self-signed certificate)',
    );
  }
  const rackFrom = rack ? (rackInput ? ', rack' : ', CONVOX_RACK') : '';
  return {
    baseUrl: baseOf(url),
    password: secret,
    username: 'convox',
    rack,
    insecureTls: inputs.insecureTls,
    source: `${hostInput}, ${passwordSource}${rackFrom}`,
    passwordSource,
  };
}

function fromRackUrl(text: string, rackInput: string | undefined, insecureTls: boolean): RackTarget {
  if (rackInput) {
    throw new ActionError(
      `both the rack input (${rackInput}) and RACK_URL are set; RACK_URL names one rack directly, so one of them is wrong`,
      { input: 'rack' },
      'remove the rack input to deploy to the rack in RACK_URL, or unset RACK_URL to go through the Console',
    );
  }
  const url = parseHost(text, 'RACK_URL', insecureTls);
  if (!url.password) {
    throw new ActionError(
      'RACK_URL has no password (expected https://convox:<password>@<rack host>)',
      { input: 'rack-password' },
      'put the rack password in RACK_URL, or set rack-host and rack-password instead',
    );
  }
  return {
    baseUrl: baseOf(url),
    password: url.password,
    username: url.username === 'jwt' ? 'jwt' : 'convox',
    insecureTls,
    source: 'RACK_URL',
    passwordSource: 'RACK_URL',
  };
}

interface ParsedHost {
  protocol: string;
  host: string;
  hostname: string;
  pathname: string;
  password: string;
  username: string;
}

const VALID_HOSTNAME = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i;

function parseHost(text: string, input: string, insecureTls: boolean): ParsedHost {
  const fix = 'give a host such as console.convox.com or a URL such as https://api.rack.example.com';
  const bad = (why: string): ActionError => new ActionError(`"${redactUserinfo(text)}" ${why}`, { input }, fix);
  if (/\s/.test(text)) throw bad('contains spaces');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw bad('is not a host name or URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw bad(`uses ${url.protocol.slice(0, -1)}://; only https:// (or http://) works`);
  if (!url.hostname) throw bad('has no host name');
  // WHATWG URLs accept hosts like `ht!tp`; refuse them here rather than send a DNS query for one.
  if (!VALID_HOSTNAME.test(url.hostname)) throw bad(`has an invalid host name "${url.hostname}"`);
  if (url.search || url.hash) throw bad('must not have a query or fragment');
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !insecureTls) {
    throw new ActionError(
      `"${redactUserinfo(text)}" uses plain http://, which would send the password unencrypted`,
      { input },
      'use https:// (with rack-insecure-tls: true if the rack has a self-signed certificate)',
    );
  }
  return {
    protocol: url.protocol,
    host: url.host,
    hostname: url.hostname,
    pathname: url.pathname.replace(/\/+$/, ''),
    password: safeDecode(url.password),
    username: safeDecode(url.username),
  };
}

function baseOf(url: ParsedHost): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** True for hosts that never leave the machine (plain http is harmless there). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** `text` with any `user:password@` removed, for messages about a URL. */
export function redactUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, '$1***@');
}

/** The rack's name for messages: the Console rack name, else the host. */
export function rackLabel(target: RackTarget): string {
  return target.rack ?? new URL(target.baseUrl).host;
}
