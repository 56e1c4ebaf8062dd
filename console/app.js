// Hearth CRM console: a small Preact + htm app (no build step) on the API's own origin.
import { html, render, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { currentSession, logout, onSessionChange, restoreSession } from './api.js';
import { ApiKeysPage } from './pages/api-keys.js';
import { ForgotPasswordPage, LoginPage, RegisterPage, ResetPasswordPage } from './pages/auth.js';
import { DashboardPage } from './pages/dashboard.js';
import { AuditLogPage, EventsPage } from './pages/logs.js';
import { SecurityPage } from './pages/security.js';
import { SessionsPage } from './pages/sessions.js';
import { TeamPage } from './pages/team.js';
import { UsersPage } from './pages/users.js';
import { WebhooksPage } from './pages/webhooks.js';
import { ReauthDialog } from './reauth.js';
import { Alert, PageTitle } from './ui.js';

const PUBLIC_ROUTES = {
  login: { title: 'Sign in', view: LoginPage },
  register: { title: 'Create your team', view: RegisterPage },
  'forgot-password': { title: 'Forgot password', view: ForgotPasswordPage },
  'reset-password': { title: 'Reset password', view: ResetPasswordPage },
};

const PRIVATE_ROUTES = {
  dashboard: { title: 'Dashboard', view: DashboardPage, admin: true },
  'audit-log': { title: 'Audit log', view: AuditLogPage, admin: true },
  events: { title: 'Security events', view: EventsPage, admin: true },
  users: { title: 'Users', view: UsersPage, admin: true },
  team: { title: 'Team', view: TeamPage, admin: true },
  'api-keys': { title: 'API keys', view: ApiKeysPage, admin: true },
  webhooks: { title: 'Webhooks', view: WebhooksPage, admin: true },
  sessions: { title: 'Sessions', view: SessionsPage },
  security: { title: 'Security settings', view: SecurityPage },
};

const NAV = ['dashboard', 'events', 'audit-log', 'users', 'team', 'api-keys', 'webhooks', 'sessions', 'security'];

const SIGN_OUT_NOTICES = {
  'signed-out': 'You are signed out.',
  'signed-out-everywhere': 'You signed out of every device.',
  'signed-out-elsewhere': 'You signed out in another tab.',
  expired: 'Your session ended. Please sign in again.',
  'token-reuse': 'For your safety all sessions were signed out. Please sign in again.',
};

/** "#/reset-password?token=abc" → { name: 'reset-password', params: URLSearchParams }. */
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { name: path.split('/')[0] || '', params: new URLSearchParams(query) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function go(name) {
  if (parseHash(location.hash).name !== name) location.hash = `#/${name}`;
}

const homeFor = (user) => (user && user.role === 'admin' ? 'dashboard' : 'security');

function Shell({ user, route, children }) {
  const [busy, setBusy] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const isAdmin = user.role === 'admin';
  async function signOut() {
    setBusy(true);
    try {
      await logout();
    } catch {
      // The local session is gone either way (logout() always forgets it).
    }
  }
  const links = NAV.filter((name) => isAdmin || !PRIVATE_ROUTES[name].admin);
  return html`<div class="shell">
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href=${`#/${homeFor(user)}`}><img src="/console/favicon.svg" alt="" width="28" height="28" /> <span>Hearth CRM</span></a>
        <button type="button" class="button-quiet menu-toggle" aria-expanded=${menuOpen ? 'true' : 'false'} aria-controls="main-nav" onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
        <nav id="main-nav" class=${menuOpen ? 'nav nav-open' : 'nav'} aria-label="Main">
          <ul>
            ${links.map(
              (name) =>
                html`<li><a href=${`#/${name}`} aria-current=${route.name === name ? 'page' : undefined} onClick=${() => setMenuOpen(false)}>${PRIVATE_ROUTES[name].title}</a></li>`,
            )}
          </ul>
        </nav>
        <div class="account">
          <span class="account-name" title=${user.email}>${user.firstName || user.email} <span class="badge badge-neutral">${user.role}</span></span>
          <button type="button" class="button button-secondary" onClick=${signOut} disabled=${busy} data-testid="sign-out">${busy ? 'Signing out…' : 'Sign out'}</button>
        </div>
      </div>
    </header>
    <main id="main" tabindex="-1" class="content">${children}</main>
    <${ReauthDialog} />
  </div>`;
}

function PublicShell({ children }) {
  return html`<div class="public">
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    <header class="public-brand"><img src="/console/favicon.svg" alt="" width="36" height="36" /> <span>Hearth CRM console</span></header>
    <main id="main" tabindex="-1">${children}</main>
  </div>`;
}

function App() {
  const route = useRoute();
  const [booting, setBooting] = useState(true);
  const [session, setSession] = useState(currentSession());
  const [notice, setNotice] = useState('');

  useEffect(() => {
    const off = onSessionChange((s) => {
      setSession({ user: s.user, signedIn: s.signedIn });
      if (!s.signedIn) {
        setNotice(SIGN_OUT_NOTICES[s.reason] || '');
        go('login');
      } else if (s.reason === 'signed-in') {
        setNotice('');
        const here = parseHash(location.hash).name;
        if (!PRIVATE_ROUTES[here]) go(homeFor(s.user));
      }
    });
    restoreSession().finally(() => setBooting(false));
    return off;
  }, []);

  const publicRoute = PUBLIC_ROUTES[route.name];
  const privateRoute = PRIVATE_ROUTES[route.name];

  useEffect(() => {
    if (booting) return;
    if (!session.signedIn && !publicRoute) go('login');
    else if (session.signedIn && !privateRoute && route.name !== 'reset-password') go(homeFor(session.user));
  }, [booting, session.signedIn, route.name]);

  // Moving between pages moves focus to the new page's heading (first load: PageTitle does it).
  const seenRoute = useRef(null);
  useEffect(() => {
    if (booting) return;
    if (seenRoute.current !== null && seenRoute.current !== route.name) {
      setTimeout(() => {
        // Unless the new page already put the focus somewhere inside it (the sign-in page focuses the email field).
        const main = document.getElementById('main');
        const active = document.activeElement;
        if (!main || !main.contains(active) || active === main) document.getElementById('page-title')?.focus();
      }, 0);
    }
    seenRoute.current = route.name;
  }, [booting, route.name]);

  const current =
    (session.signedIn ? privateRoute : publicRoute) ||
    (session.signedIn && route.name === 'reset-password' ? publicRoute : null);
  useEffect(() => {
    document.title = `${current ? current.title : 'Console'} · Hearth CRM`;
  }, [current]);

  if (booting) return html`<p class="boot" role="status">Loading the Hearth CRM console…</p>`;

  if (!session.signedIn || !privateRoute) {
    if (!publicRoute) return null;
    const View = publicRoute.view;
    return html`<${PublicShell}><${View} key=${route.name} notice=${route.name === 'login' ? notice : ''} token=${route.params.get('token')} /><//>`;
  }
  const View = privateRoute.view;
  return html`<${Shell} user=${session.user} route=${route}>
    ${
      privateRoute.admin && session.user.role !== 'admin'
        ? html`<div class="stack-lg"><${PageTitle}>${privateRoute.title}<//><${Alert} kind="warning">Only team administrators can open this page.<//></div>`
        : html`<${View} key=${route.name} user=${session.user} params=${route.params} />`
    }
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
