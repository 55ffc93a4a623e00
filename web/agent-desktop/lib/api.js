// The functions' HTTP contract (functions/openapi.json): POST JSON, a request id we choose, errors
// as {"error": {code, message, request_id, details}}. Identity travels as a signed token the front
// door adds (IAP's x-goog-iap-jwt-assertion; locally the dev stack's session cookie): the page sends
// no identity of its own.
import { config, functionUrl, resourceUrl } from "./config.js";

export class ApiError extends Error {
  constructor({ status, code, message, requestId, details, fn, retryAfter }) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter || null; // seconds, from Retry-After (503 outage, 409 contention)
    this.code = code;
    this.requestId = requestId;
    this.details = details || [];
    this.fn = fn;
  }
}

function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "desk-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Call one function; resolve with {data, requestId} or reject with an ApiError. */
export async function callFunction(name, body) {
  const cfg = config();
  const requestId = newRequestId();
  const headers = {
    ...(cfg.headers || {}), // e.g. {"Authorization": "Bearer <ID token>"} from the host desktop's sign-in
    "Content-Type": "application/json",
    "X-Request-Id": requestId,
  };
  let resp;
  try {
    resp = await fetch(functionUrl(name), { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
  } catch (exc) {
    throw new ApiError({ status: 0, code: "network", message: String(exc.message || exc), requestId, fn: name });
  }
  const echoed = resp.headers.get("X-Request-Id") || requestId;
  let payload = null;
  try {
    payload = await resp.json();
  } catch {
    payload = null;
  }
  if (resp.status === 401) document.dispatchEvent(new CustomEvent("cx-signed-out"));
  if (!resp.ok) {
    const err = (payload && payload.error) || {};
    throw new ApiError({
      status: resp.status,
      code: err.code || `http_${resp.status}`,
      message: err.message || resp.statusText || `HTTP ${resp.status}`,
      requestId: err.request_id || echoed,
      details: err.details,
      fn: name,
      retryAfter: Number.parseInt(resp.headers.get("Retry-After") || "", 10) || null,
    });
  }
  return { data: payload, requestId: echoed };
}

/** A fresh idempotency key for feedback events. */
export function eventId(prefix) {
  return `${prefix}-${newRequestId().slice(5, 29)}`;
}

/** Who the front door says is signed in: {agent_id, role}; null when signed out (401); {} when this
 *  front door has no whoami (behind IAP the person is signed in before the page loads). */
export async function whoami() {
  try {
    const resp = await fetch(resourceUrl(config().whoamiUrl), { cache: "no-store", credentials: "same-origin" });
    if (resp.ok) return await resp.json();
    return resp.status === 401 ? null : {};
  } catch {
    return {};
  }
}

/** The demo sign-ins the local front door offers ([] behind IAP, where Google's sign-in is used). */
export async function demoUsers() {
  try {
    const resp = await fetch(resourceUrl(config().usersUrl), { cache: "no-store" });
    return resp.ok ? (await resp.json()).users || [] : [];
  } catch {
    return [];
  }
}

/** Sign in as a demo user at the local front door; the session is an HttpOnly cookie. */
export async function signIn(user) {
  const resp = await fetch(resourceUrl(config().signInUrl), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user }), credentials: "same-origin",
  });
  return resp.ok;
}
