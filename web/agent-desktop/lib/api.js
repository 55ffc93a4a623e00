// The functions' HTTP contract (functions/openapi.json): POST JSON, the agent id and role
// headers, a request id we choose, errors as {"error": {code, message, request_id, details}}.
import { config, functionUrl } from "./config.js";

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
    "X-Agent-Id": cfg.agentId,
    "X-Agent-Role": cfg.agentRole,
    "X-Request-Id": requestId,
  };
  let resp;
  try {
    resp = await fetch(functionUrl(name), { method: "POST", headers, body: JSON.stringify(body) });
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
