-- Customer-data access audit: one row per audit.customer_access event (shared/safety/access.py),
-- allowed and denied reads alike, de-duplicated by event_id through cx_analytics.events.
-- Who (agent_id, role, auth_source, access_grant), which customer (pseudonymous customer_key,
-- tenant), through which capability, what the data-access policy let through (fields, a JSON
-- array) and which role-gated details were shown; request_id joins the functions' request logs.
-- Not exposed in cx_kpi: grant it to auditors only (infra/terraform).
CREATE OR REPLACE VIEW cx_analytics.audit_events AS
SELECT
  event_id,
  occurred_at,
  JSON_VALUE(data, '$.request_id') AS request_id,
  JSON_VALUE(data, '$.capability') AS capability,
  JSON_VALUE(data, '$.decision') AS decision,
  JSON_VALUE(data, '$.reason') AS reason,
  JSON_VALUE(data, '$.agent_id') AS agent_id,
  JSON_VALUE(data, '$.role') AS role,
  JSON_VALUE(data, '$.auth_source') AS auth_source,
  JSON_VALUE(data, '$.grant') AS access_grant,
  JSON_VALUE(data, '$.tenant') AS tenant,
  JSON_VALUE(data, '$.customer_key') AS customer_key,
  TO_JSON_STRING(JSON_QUERY(data, '$.fields')) AS fields,
  TO_JSON_STRING(JSON_QUERY(data, '$.details')) AS details,
  JSON_VALUE(data, '$.access_policy_version') AS access_policy_version,
  JSON_VALUE(data, '$.context_policy_version') AS context_policy_version
FROM cx_analytics.events
WHERE event_type = 'audit.customer_access'
