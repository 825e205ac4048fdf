/** Why a domain operation refused; routes map these to problems. */
export class ItemNotFound extends Error {
  override name = 'ItemNotFound';
}

export class NotOwner extends Error {
  override name = 'NotOwner';
}

/** The caller's version (If-Match) is not the item's current one. */
export class VersionMismatch extends Error {
  override name = 'VersionMismatch';
  constructor(readonly current: number) {
    super(`the item is at version ${current}`);
  }
}
