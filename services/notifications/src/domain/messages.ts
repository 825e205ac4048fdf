/**
 * What each outcome tells the user. Amounts are minor units; the text stays short because it is
 * also the e-mail's subject and body.
 */
export interface Message {
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;
const short = (id: string) => id.slice(-8);

const cancelReasons: Record<string, string> = {
  stock_rejected: 'an item is out of stock',
  payment_declined: 'the payment was declined',
  payment_timeout: 'the payment did not go through in time',
  reservation_timeout: 'the items could not be reserved in time',
  customer_requested: 'you cancelled it',
};

const declineReasons: Record<string, string> = {
  card_declined: 'the card was declined',
  insufficient_funds: 'the card has insufficient funds',
};

export const messages = {
  welcome: (displayName: string): Message => ({
    kind: 'welcome',
    title: `Welcome to Souk, ${displayName}`,
    body: 'Your account is ready. Order updates will show up here.',
    data: {},
  }),
  orderConfirmed: (d: { orderId: string; totalCents: number; currency: string }): Message => ({
    kind: 'order_confirmed',
    title: `Order …${short(d.orderId)} confirmed`,
    body: `Your order of ${money(d.totalCents, d.currency)} is confirmed and paid.`,
    data: { orderId: d.orderId, totalCents: d.totalCents, currency: d.currency },
  }),
  orderCancelled: (d: { orderId: string; reason: string }): Message => ({
    kind: 'order_cancelled',
    title: `Order …${short(d.orderId)} cancelled`,
    body: `Your order was cancelled: ${cancelReasons[d.reason] ?? d.reason}.`,
    data: { orderId: d.orderId, reason: d.reason },
  }),
  paymentDeclined: (d: { orderId: string; reason: string }): Message => ({
    kind: 'payment_declined',
    title: `Payment for order …${short(d.orderId)} declined`,
    body: `We could not take the payment: ${declineReasons[d.reason] ?? d.reason}.`,
    data: { orderId: d.orderId, reason: d.reason },
  }),
  paymentRefunded: (d: { orderId: string; amountCents: number; currency: string }): Message => ({
    kind: 'payment_refunded',
    title: `Refund for order …${short(d.orderId)}`,
    body: `${money(d.amountCents, d.currency)} is on its way back to your card.`,
    data: { orderId: d.orderId, amountCents: d.amountCents, currency: d.currency },
  }),
};
