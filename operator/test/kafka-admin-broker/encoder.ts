/** Writes the non-flexible Kafka protocol primitive types (big-endian) into one response body. */
export class Encoder {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  private push(chunk: Buffer): this {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  writeInt8(value: number): this {
    const b = Buffer.allocUnsafe(1);
    b.writeInt8(value);
    return this.push(b);
  }

  writeBoolean(value: boolean): this {
    return this.writeInt8(value ? 1 : 0);
  }

  writeInt16(value: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(value);
    return this.push(b);
  }

  writeInt32(value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(value);
    return this.push(b);
  }

  writeNullableString(value: string | null): this {
    if (value === null) return this.writeInt16(-1);
    const bytes = Buffer.from(value, 'utf8');
    return this.writeInt16(bytes.length).push(bytes);
  }

  writeString(value: string): this {
    return this.writeNullableString(value);
  }

  writeArray<T>(items: readonly T[], writeItem: (encoder: Encoder, item: T) => void): this {
    this.writeInt32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  writeInt32Array(items: readonly number[]): this {
    return this.writeArray(items, (e, v) => e.writeInt32(v));
  }

  size(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}
