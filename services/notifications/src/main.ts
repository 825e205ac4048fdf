import { loadConfigOrExit } from '@souk/kit';
import { createNotifications } from './app.ts';
import { notificationsConfig } from './config.ts';

const config = loadConfigOrExit(notificationsConfig);
const app = await createNotifications({ config });
await app.start();
app.service.exitOnSignals();
