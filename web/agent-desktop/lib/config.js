// Where the functions live: config.json, then query parameters.
//   ?base=https://cx.example.com/api/   every function at base + name
//   ?fn.reply_draft=https://…          one function elsewhere
//   ?lang=de&config=other.json
// Who is calling is never configured here: the front door (Identity-Aware Proxy; locally the dev
// stack's sign-in) attaches a signed token to every call, and the functions read the role from it.
const DEFAULTS = {
  language: "en",
  whoamiUrl: "auth/whoami",
  signInUrl: "auth/login",
  usersUrl: "auth/users",
  functionsBase: "api/",
  functions: {},
  catalogueUrl: "queues.json",
  samplesUrl: "samples/index.json",
};

let current = { ...DEFAULTS, baseHref: globalThis.location ? location.href : "" };

export function config() {
  return current;
}

/** Merge settings (an embedding desktop may call this instead of shipping config.json). */
export function configure(values) {
  current = { ...current, ...values, functions: { ...current.functions, ...(values.functions || {}) } };
  return current;
}

/** Load config.json (relative to the page) and apply the page's query parameters. */
export async function loadConfig(search = location.search) {
  const params = new URLSearchParams(search);
  const url = new URL(params.get("config") || "config.json", location.href);
  let file = {};
  try {
    const resp = await fetch(url, { cache: "no-store" });
    if (resp.ok) file = await resp.json();
  } catch {
    file = {};
  }
  const values = { ...file, baseHref: url.href };
  if (params.get("base")) values.functionsBase = params.get("base");
  if (params.get("lang")) values.language = params.get("lang");
  const functions = { ...(file.functions || {}) };
  for (const [key, value] of params) {
    if (key.startsWith("fn.")) functions[key.slice(3)] = value;
  }
  values.functions = functions;
  return configure(values);
}

/** Absolute URL of one function. */
export function functionUrl(name) {
  const cfg = current;
  if (cfg.functions[name]) return new URL(cfg.functions[name], cfg.baseHref).href;
  const base = new URL(cfg.functionsBase, cfg.baseHref).href;
  return new URL(name, base.endsWith("/") ? base : base + "/").href;
}

export function resourceUrl(path) {
  return new URL(path, current.baseHref).href;
}
