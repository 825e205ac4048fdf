/** Reads the non-flexible Kafka protocol primitive types (big-endian) from one request body. */
export class Decoder {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) {
      throw new RangeError(`request truncated: need ${bytes} bytes at offset ${this.offset}`);
    }
  }

  readInt8(): number {
    this.need(1);
    const value = this.buffer.readInt8(this.offset);
    this.offset += 1;
    return value;
  }

  readBoolean(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  readInt32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  readNullableString(): string | null {
    const length = this.readInt16();
    if (length < 0) return null;
    this.need(length);
    const value = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  readString(): string {
    const value = this.readNullableString();
    if (value === null) throw new RangeError(`null STRING at offset ${this.offset}`);
    return value;
  }

  readNullableArray<T>(readItem: (decoder: Decoder) => T): T[] | null {
    const length = this.readInt32();
    if (length < 0) return null;
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(readItem(this));
    return items;
  }

  readArray<T>(readItem: (decoder: Decoder) => T): T[] {
    return this.readNullableArray(readItem) ?? [];
  }

  remaining(): number {
    return this.buffer.length - this.offset;
  }
}
