import { ProtocolError } from "../protocol/protocol-error.ts";
import { deserializeAudio } from "../protocol/v2-audio.ts";
import { StreamKeyring } from "../protocol/v2-seal.ts";
import { AudioReassembler, type ReceivedAudio } from "./audio-reassembler.ts";

/**
 * udpvid's sound datagrams: parsed, opened when the receiver has a key
 * (then only sealed datagrams that authenticate are taken, as for the
 * picture), and put back together by AudioReassembler, following the
 * picture's stream.
 */
export class AudioDatagramReassembler {
  private readonly reassembler = new AudioReassembler();
  private readonly keyring: StreamKeyring | undefined;

  constructor(preSharedKey: Uint8Array | undefined) {
    this.keyring = preSharedKey ? new StreamKeyring(preSharedKey) : undefined;
  }

  /** One datagram; `followed` is the picture's stream id (undefined: none yet). Throws ProtocolError for anything malformed or unauthentic. */
  push(datagram: Uint8Array, followed: number | undefined): ReceivedAudio[] {
    const parsed = deserializeAudio(datagram);
    if (!this.keyring && parsed.sealed) throw new ProtocolError("sealed-no-key", "the stream is encrypted and this receiver has no key");
    if (this.keyring && !parsed.sealed) throw new ProtocolError("not-sealed", "a plain datagram at a receiver that requires a key");
    return this.reassembler.push(this.keyring ? this.keyring.openAudio(datagram, parsed) : parsed, followed);
  }

  /** The newest data packet of the followed stream known to have been sent (undefined before any). */
  get newestSent(): number | undefined {
    return this.reassembler.newestSent;
  }

  get stats(): Readonly<AudioReassembler["stats"]> {
    return this.reassembler.stats;
  }

  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }
}
