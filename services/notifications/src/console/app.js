// The live console: signs in through users (POST /sessions, same origin), lists the user's
// notifications and follows them over the WebSocket; admins also follow the event stream and the
// live charts.
import { startCharts } from './charts.js';

const PROTOCOL = 'souk.notifications.v1';
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  email: null,
  roles: [],
  lastId: 0,
  ids: new Set(),
  sockets: [],
  events: 0,
  stopped: true,
};

function claims(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
}

async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (res.status === 401 && state.token) signOut();
  if (!res.ok)
    throw Object.assign(new Error(json.detail || json.title || res.statusText), { status: res.status });
  return json;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const time = (iso) => new Date(iso).toLocaleTimeString();

function renderNotification(n, { prepend }) {
  if (state.ids.has(n.id)) return;
  state.ids.add(n.id);
  state.lastId = Math.max(state.lastId, n.id);
  const item = el('li', `item kind-${n.kind}${n.readAt ? '' : ' unread'}`);
  item.dataset.id = String(n.id);
  item.dataset.kind = n.kind;
  const title = el('div', 'title');
  title.append(el('span', '', n.title));
  item.append(
    title,
    el('div', 'body', n.body),
    el('div', 'meta', `#${n.id} · ${time(n.createdAt)} · ${n.kind.replace('_', ' ')}`),
  );
  item.addEventListener('click', () => markRead(n.id, item));
  const list = $('notification-list');
  if (prepend) list.prepend(item);
  else list.append(item);
  $('notifications-empty').hidden = true;
  updateUnread();
}

function updateUnread() {
  $('unread').textContent = String(document.querySelectorAll('#notification-list .unread').length);
}

async function markRead(id, item) {
  if (!item.classList.contains('unread')) return;
  await api('POST', `/notifications/${id}/read`);
  item.classList.remove('unread');
  updateUnread();
}

const tagOf = (type) =>
  /Confirmed|Authorized|Captured|Reserved|Registered/.test(type)
    ? 'ok'
    : /Cancelled|Declined|Failed|Rejected|Deleted/.test(type)
      ? 'bad'
      : /Refund|Void|Timeout/.test(type)
        ? 'warn'
        : 'info';

function renderEvent(e) {
  const row = el('tr');
  const type = el('td');
  type.append(el('span', `tag ${tagOf(e.type)}`, e.type));
  row.dataset.type = e.type;
  row.append(
    el('td', '', time(e.occurredAt)),
    type,
    el('td', '', `${e.aggregateType} …${e.aggregateId.slice(-8)}`),
    el('td', '', e.topic),
  );
  const body = $('event-list');
  body.prepend(row);
  while (body.children.length > 200) body.lastChild.remove();
  state.events += 1;
  $('event-count').textContent = String(state.events);
}

function setLink() {
  const open = state.sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  $('link').className = `dot ${open > 0 && open === state.sockets.length ? 'live' : 'down'}`;
}

function connect(path, onMessage, withLastId) {
  if (state.stopped) return;
  const url = new URL(path, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (withLastId) url.searchParams.set('lastId', String(state.lastId));
  const ws = new WebSocket(url, [PROTOCOL, `bearer.${state.token}`]);
  state.sockets.push(ws);
  ws.addEventListener('open', setLink);
  ws.addEventListener('message', (m) => onMessage(JSON.parse(m.data)));
  ws.addEventListener('close', (event) => {
    state.sockets = state.sockets.filter((s) => s !== ws);
    setLink();
    if (event.code === 4403) return signOut();
    // Reconnect, resuming after the last notification seen.
    setTimeout(() => connect(path, onMessage, withLastId), 1000);
  });
}

async function signIn(email, password) {
  const session = await api('POST', '/sessions', { email, password });
  state.token = session.accessToken;
  state.email = email;
  sessionStorage.setItem('souk.console', JSON.stringify({ token: state.token, email }));
  await open();
}

async function open() {
  const c = claims(state.token);
  if (c.exp * 1000 < Date.now()) return signOut();
  state.roles = c.roles || [];
  state.stopped = false;
  $('login').hidden = true;
  $('panels').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = state.email;
  $('who-roles').textContent = state.roles.join(', ') || 'customer';
  const page = await api('GET', '/notifications?limit=50');
  for (const n of page.items) renderNotification(n, { prepend: false });
  connect(
    '/notifications/stream',
    (m) => {
      if (m.type === 'notification') renderNotification(m.notification, { prepend: true });
    },
    true,
  );
  $('panels').classList.toggle('single', !state.roles.includes('admin'));
  if (state.roles.includes('admin')) {
    startCharts($('charts'), api);
    $('events').hidden = false;
    connect(
      '/notifications/events',
      (m) => {
        if (m.type === 'event') renderEvent(m.event);
      },
      false,
    );
  }
}

function signOut() {
  state.stopped = true;
  for (const ws of state.sockets) ws.close();
  sessionStorage.removeItem('souk.console');
  location.reload();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('login-error').hidden = true;
  signIn($('email').value.trim(), $('password').value).catch((error) => {
    $('login-error').textContent = error.status === 401 ? 'Wrong e-mail or password.' : error.message;
    $('login-error').hidden = false;
  });
});
$('logout').addEventListener('click', () => {
  fetch('/sessions/current', {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${state.token}` },
  }).finally(signOut);
});
$('read-all').addEventListener('click', async () => {
  await api('POST', '/notifications/read-all');
  for (const item of document.querySelectorAll('#notification-list .unread')) item.classList.remove('unread');
  updateUnread();
});

const saved = sessionStorage.getItem('souk.console');
if (saved) {
  const { token, email } = JSON.parse(saved);
  state.token = token;
  state.email = email;
  open().catch(() => signOut());
}
