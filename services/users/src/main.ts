import { loadConfigOrExit } from '@souk/kit';
import { startUsers } from './app.ts';
import { usersConfig } from './config.ts';

const config = loadConfigOrExit(usersConfig);
const app = await startUsers(config);
app.service.exitOnSignals();
