import { loadConfigOrExit } from '@souk/kit';
import { createNotifications } from './app.ts';
import { notificationsConfig } from './config.ts';

const config = loadConfigOrExit(notificationsConfig);
const app = await createNotifications({ config });
// Before start: it serves /livez before the consumer has subscribed, and a SIGTERM may come then.
app.service.exitOnSignals();
await app.start();
