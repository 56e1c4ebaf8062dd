// The server's settings for this console, from /console/config.json: among them the lists it derives from its
// catalogue of CRM resources (key scopes, webhook events, audit resource types) and its own lists (audit actions,
// security event types, severities), so no page keeps its own copy.
import { useEffect, useState } from './vendor/htm-preact.js';
import { loadClientConfig } from './password.js';

/** The config once loaded ({} if it could not be), null before. */
export function useClientConfig() {
  const [config, setConfig] = useState(null);
  useEffect(() => {
    let live = true;
    loadClientConfig().then((c) => live && setConfig(c || {}));
    return () => {
      live = false;
    };
  }, []);
  return config;
}

/** The CRM resources of the server: [{ resource, label, webhookType, extraWebhookEvents }]. */
export function crmResources(config) {
  return (config && config.crmResources) || [];
}

/** A list the server sends in config.json (`auditResourceTypes`, `auditActions`, `securityEventTypes`, `severities`). */
export function serverList(config, name) {
  return (config && config[name]) || [];
}
