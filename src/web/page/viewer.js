// udpvid's browser viewer: the receiver's newest frame, drawn on a canvas.
// No framework, nothing fetched from elsewhere. The byte layout of its
// messages is drawn in src/web/web-messages.ts.
"use strict";

const PICTURE = 0x01;
const SOUND = 0x02;
const VERSION = 1;
const HEADER = 24;
const SOUND_HEADER = 16;
const CLOSE_STALLED = 4001;
/** The first sound is played this long after it arrives: room for the network's jitter (raised when sound comes late). */
const PLAYOUT_DELAY_S = 0.1;
const MAX_PLAYOUT_DELAY_S = 0.5;
/** Sound that comes late is played this far ahead of the context's clock (it must be scheduled before it is rendered). */
const LATE_MARGIN_S = 0.01;
/**
 * After a late spell has raised the delay, it comes back down once the sound
 * has arrived with room to spare for CATCH_UP_AFTER_S: one packet left out
 * at a time (the next takes its place on the clock), a quiet one where there
 * is one within QUIET_WAIT_S, at most one in CATCH_UP_EVERY packets (a
 * 300 ms stall's delay is gone about 5 s after it), while
 * the earliest any came in that stretch would still have been in time by
 * CATCH_UP_SPARE_S. Delays within CATCH_UP_ABOVE_S of the start's are kept:
 * not worth a cut.
 */
const CATCH_UP_AFTER_S = 2;
const CATCH_UP_ABOVE_S = 0.04;
const CATCH_UP_SPARE_S = 0.02;
const CATCH_UP_EVERY = 5;
const QUIET_WAIT_S = 0.2;
/** Around a cut the sound dips to nothing and back over this long each way, so the join does not click. */
const CUT_FADE_S = 0.003;
/** A packet this quiet (peak, of full scale) is left out unheard. */
const QUIET_PEAK = 0.02;
/** Without sound for this long, pictures are shown as they come again. */
const SOUND_IDLE_MS = 1000;
/** Decoded pictures waiting for their sound, at most (the oldest make way). */
const MAX_HELD = 30;

// This file is also the sound's worklet module, for ?record-sound (the one
// script the page may load): there it only registers the tap.
if (typeof registerProcessor === "function") {
  registerProcessor(
    "udpvid-tap",
    class extends AudioWorkletProcessor {
      process(inputs) {
        const left = inputs[0] && inputs[0][0];
        if (left) this.port.postMessage({ frame: currentFrame, left: left.slice() });
        return true;
      }
    },
  );
} else {
  viewerPage();
}

function viewerPage() {
  const canvas = document.getElementById("picture");
  const context = canvas.getContext("2d");
  const card = document.getElementById("card");
  const statsBox = document.getElementById("stats");
  const hint = document.getElementById("hint");
  const token = new URLSearchParams(location.search).get("token");

  // What the tests (and a curious user, in the console) can read.
  const viewer = (window.udpvidViewer = {
    state: "connecting",
    framesDrawn: 0,
    lastDrawn: null,
    statsVisible: false,
    frozen: false,
    serverStats: null,
    sound: { packets: 0, played: 0, late: 0, rebased: 0, caughtUp: 0, state: "none", delayMs: null, scheduledUntil: 0 },
  });
  // The script's own URL (with the token), for loading it again as the worklet.
  const scriptUrl = document.currentScript.src;
  // ?record-sound: the page keeps what it played and when it drew each picture (the tests' proof of sound and sync).
  const recording = new URLSearchParams(location.search).has("record-sound") ? { chunks: [], frames: [] } : null;
  viewer.recording = recording;

  let socket = null;
  let newest = null; // the newest frame not yet decoded: only it is kept
  let decoding = false;
  let shown = null; // { bitmap, frameNumber }
  const drawnAt = []; // when frames were drawn, the last 2 s (fps)
  let lastLatencyMs = null;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event) => {
      if (typeof event.data === "string") onText(event.data);
      else if (event.data.byteLength > 0 && new Uint8Array(event.data, 0, 1)[0] === SOUND) onSound(event.data);
      else onPicture(event.data);
    };
    ws.onclose = (event) => {
      socket = null;
      if (viewer.state === "ended") return;
      if (event.code === 1013) setState("full", "This receiver has as many viewers as it takes");
      else if (event.code === CLOSE_STALLED) setState("disconnected", "This page fell behind and was dropped: reconnecting…");
      else setState("disconnected", "Receiver not reachable: reconnecting…");
      setTimeout(connect, event.code === 1013 ? 5000 : 1000);
    };
    socket = ws;
  }

  function onText(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "state") setState(message.state);
    else if (message.type === "stats") {
      viewer.serverStats = message;
      renderStats();
    }
  }

  function onPicture(buffer) {
    if (buffer.byteLength <= HEADER) return;
    const view = new DataView(buffer);
    if (view.getUint8(0) !== PICTURE || view.getUint8(1) !== VERSION) return;
    const age = view.getUint32(12);
    // Said at once: the receiver sends only a couple of frames ahead of what this page has got.
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "got", frame: view.getUint32(4) }));
    newest = {
      frameNumber: view.getUint32(4),
      captureUs: view.getUint32(8),
      ageMs: age === 0xffffffff ? null : age / 1000,
      sentAtMs: view.getFloat64(16),
      arrivedMs: performance.now(),
      jpeg: new Uint8Array(buffer, HEADER),
    };
    if (viewer.state !== "receiving") setState("receiving");
    void decodeNewest();
  }

  async function decodeNewest() {
    if (decoding || !newest || viewer.frozen) return;
    const frame = newest;
    newest = null;
    decoding = true;
    try {
      frame.bitmap = await createImageBitmap(new Blob([frame.jpeg], { type: "image/jpeg" }));
      frame.jpeg = null;
      held.push(frame);
      while (held.length > MAX_HELD) held.shift().bitmap.close();
      present();
    } catch {
      // A frame the browser cannot decode is skipped; the next one comes.
    } finally {
      decoding = false;
    }
    if (newest) void decodeNewest();
  }

  // Decoded pictures waiting for their time: with sound, when the sound captured with them is heard; without, at once.
  const held = [];

  /** Draws the newest picture that is due (older due ones are passed over), and looks again at the next animation frame while any wait. */
  function present() {
    if (viewer.frozen) return;
    let due = null;
    while (held.length > 0 && isDue(held[0])) {
      if (due) due.bitmap.close();
      due = held.shift();
    }
    if (due) show(due);
    if (held.length > 0 && !presentQueued) {
      presentQueued = true;
      requestAnimationFrame(() => {
        presentQueued = false;
        present();
      });
    }
  }
  let presentQueued = false;

  function isDue(frame) {
    if (!audio || !soundPlaying()) return true;
    const at = audio.heardAt(frame.captureUs);
    return at === null || audio.context.currentTime >= at;
  }

  function show(frame) {
    if (shown) shown.bitmap.close();
    shown = { bitmap: frame.bitmap, frameNumber: frame.frameNumber };
    draw();
    const heldMs = performance.now() - frame.arrivedMs;
    if (frame.ageMs !== null) lastLatencyMs = frame.ageMs + heldMs;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "drawn", frame: frame.frameNumber, sentAtMs: frame.sentAtMs, heldMs }));
    viewer.framesDrawn++;
    viewer.lastDrawn = { frameNumber: frame.frameNumber, width: frame.bitmap.width, height: frame.bitmap.height };
    const now = performance.now();
    drawnAt.push(now);
    while (drawnAt.length && drawnAt[0] < now - 2000) drawnAt.shift();
    if (recording && audio) recording.frames.push({ at: audio.context.currentTime, heardLatency: audio.outputLatency(), flash: flashShown() });
  }

  /** For ?record-sound: whether the test clip's flash (a white square near the top left) is in the picture drawn. */
  function flashShown() {
    const { bitmap } = shown;
    const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const x = Math.floor((canvas.width - bitmap.width * scale) / 2 + 120 * (bitmap.width / 1280) * scale);
    const y = Math.floor((canvas.height - bitmap.height * scale) / 2 + 120 * (bitmap.height / 720) * scale);
    const [r, g, b] = context.getImageData(x, y, 1, 1).data;
    return r > 200 && g > 200 && b > 200;
  }

  // The sound: 16-bit samples from the receiver (it decodes the Opus), played through WebAudio at their capture time.
  let audio = null;

  function onSound(buffer) {
    if (buffer.byteLength < SOUND_HEADER) return;
    const view = new DataView(buffer);
    if (view.getUint8(1) !== VERSION) return;
    const channels = view.getUint8(2);
    const frames = view.getUint16(12);
    if (channels < 1 || channels > 2 || frames === 0 || buffer.byteLength < SOUND_HEADER + frames * channels * 2) return;
    if (!audio) audio = startAudio();
    if (!audio) return;
    viewer.sound.packets++;
    audio.lastPacketMs = performance.now();
    const samples = new Int16Array(buffer, SOUND_HEADER, frames * channels);
    const sound = audio.context.createBuffer(2, frames, 48000);
    for (let c = 0; c < 2; c++) {
      const plane = sound.getChannelData(c);
      const from = Math.min(c, channels - 1);
      for (let i = 0; i < frames; i++) plane[i] = samples[i * channels + from] / 32767;
    }
    audio.play(view.getUint32(8), sound);
  }

  function soundPlaying() {
    return audio !== null && audio.context.state === "running" && performance.now() - audio.lastPacketMs < SOUND_IDLE_MS;
  }

  /** The sound's clock: capture time (µs, mod 2^32) → the context's time it is played at, set by the first packet and moved back when sound comes late. */
  function startAudio() {
    let context;
    try {
      context = new AudioContext({ sampleRate: 48000, latencyHint: "interactive" });
    } catch {
      viewer.sound.state = "unavailable";
      return null;
    }
    const gain = context.createGain();
    gain.connect(context.destination);
    if (recording) {
      // A tap on what is played, in the sound's own thread: each block's samples and its place on the context's clock.
      void context.audioWorklet.addModule(scriptUrl).then(() => {
        const tap = new AudioWorkletNode(context, "udpvid-tap", { numberOfOutputs: 0 });
        tap.port.onmessage = (event) => recording.chunks.push({ at: event.data.frame / context.sampleRate, left: Array.from(event.data.left) });
        gain.connect(tap);
      });
    }
    let base = null; // { captureUs, at }
    let delay = PLAYOUT_DELAY_S;
    /** The capture time of the newest sound scheduled: one older that comes late is a straggler (a repair), not the stream late. */
    let newestUs = null;
    const sinceBase = (captureUs) => ((captureUs - base.captureUs) | 0) / 1e6;
    /** When the sound last came late, each packet's room (seconds before its time) over the last CATCH_UP_AFTER_S, packets since the last cut, and since when a cut has been due. */
    let lateAt = 0;
    const rooms = [];
    let sinceCut = CATCH_UP_EVERY;
    let dueSince = null;
    /** Whether to leave this packet out, to bring the delay down by its length (see CATCH_UP_AFTER_S). */
    const catchUp = (room, sound) => {
      const now = context.currentTime;
      rooms.push({ at: now, room });
      while (rooms[0].at < now - CATCH_UP_AFTER_S) rooms.shift();
      sinceCut++;
      const due =
        delay > PLAYOUT_DELAY_S + CATCH_UP_ABOVE_S &&
        now - lateAt >= CATCH_UP_AFTER_S &&
        sinceCut >= CATCH_UP_EVERY &&
        rooms.every((r) => r.room - sound.duration >= LATE_MARGIN_S + CATCH_UP_SPARE_S);
      if (!due) {
        dueSince = null;
        return false;
      }
      dueSince ??= now;
      if (peak(sound) >= QUIET_PEAK && now - dueSince < QUIET_WAIT_S) return false;
      // Those before it would have had that much less room.
      for (const r of rooms) r.room -= sound.duration;
      sinceCut = 0;
      dueSince = null;
      return true;
    };
    const self = {
      context,
      lastPacketMs: 0,
      outputLatency: () => context.outputLatency || context.baseLatency || 0,
      play(captureUs, sound) {
        if (!base) base = { captureUs, at: context.currentTime + delay };
        let at = base.at + sinceBase(captureUs);
        if (at < context.currentTime + 0.005) {
          viewer.sound.late++;
          // A straggler (newer sound already scheduled: a repair that came too late) is left out.
          if (newestUs !== null && ((captureUs - newestUs) | 0) <= 0) return;
          // The stream itself came late (the network, or this page stalled under load): from here on everything plays that
          // much later, the picture with it, and nothing is left out (leaving out each late packet lost 4% of the sound).
          const shift = context.currentTime + LATE_MARGIN_S - at;
          if (delay + shift > MAX_PLAYOUT_DELAY_S) return;
          delay += shift;
          base.at += shift;
          at += shift;
          viewer.sound.delayMs = Math.round(delay * 1000);
          viewer.sound.rebased++;
          lateAt = context.currentTime;
        }
        newestUs = newestUs === null || ((captureUs - newestUs) | 0) > 0 ? captureUs : newestUs;
        if (catchUp(at - context.currentTime, sound)) {
          // Left out: everything after it plays its length sooner, the pictures with it.
          gain.gain.setValueAtTime(1, at - CUT_FADE_S);
          gain.gain.linearRampToValueAtTime(0, at);
          gain.gain.linearRampToValueAtTime(1, at + CUT_FADE_S);
          delay -= sound.duration;
          base.at -= sound.duration;
          viewer.sound.delayMs = Math.round(delay * 1000);
          viewer.sound.caughtUp++;
          return;
        }
        self.schedule(at, sound);
      },
      schedule(at, sound) {
        const source = context.createBufferSource();
        source.buffer = sound;
        source.connect(gain);
        source.start(at);
        viewer.sound.played++;
        viewer.sound.scheduledUntil = at + sound.duration;
      },
      /** When the sound captured at `captureUs` is heard, on the context's clock (null: no clock yet). */
      heardAt(captureUs) {
        return base ? base.at + sinceBase(captureUs) + self.outputLatency() : null;
      },
    };
    const update = () => {
      viewer.sound.state = context.state;
      viewer.sound.delayMs = Math.round(delay * 1000);
      hint.hidden = context.state !== "suspended";
      renderStats();
    };
    context.onstatechange = update;
    update();
    return self;
  }

  /** The loudest sample of the sound, of full scale. */
  function peak(sound) {
    let loudest = 0;
    for (let c = 0; c < sound.numberOfChannels; c++) {
      const plane = sound.getChannelData(c);
      for (let i = 0; i < plane.length; i++) loudest = Math.max(loudest, Math.abs(plane[i]));
    }
    return loudest;
  }

  /** Browsers let a page make sound only after a tap or a key: the first one starts it. */
  function unlockSound() {
    if (audio && audio.context.state === "suspended") void audio.context.resume();
  }
  document.addEventListener("pointerdown", unlockSound);
  document.addEventListener("keydown", unlockSound);

  /** The frame shown, letterboxed: the whole picture, as large as fits, centred. */
  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.fillStyle = "#000";
    context.fillRect(0, 0, width, height);
    if (!shown) return;
    const { bitmap } = shown;
    const scale = Math.min(width / bitmap.width, height / bitmap.height);
    const w = Math.round(bitmap.width * scale);
    const h = Math.round(bitmap.height * scale);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, Math.floor((width - w) / 2), Math.floor((height - h) / 2), w, h);
  }

  const CARDS = {
    connecting: ["Connecting…", ""],
    waiting: ["Waiting for stream", "udpvid receive is listening; start udpvid send"],
    ended: ["Stream ended", "waiting for the next one"],
  };

  function setState(state, detail) {
    viewer.state = state;
    const [headline, note] = CARDS[state] ?? [detail ?? state, ""];
    const showCard = state !== "receiving";
    card.style.display = showCard ? "flex" : "none";
    if (showCard) {
      card.textContent = "";
      const line = document.createElement("div");
      line.textContent = headline;
      if (note) {
        const small = document.createElement("small");
        small.textContent = note;
        line.append(small);
      }
      card.append(line);
    }
    // Behind a card the last picture stays dimmed out of the way, as in the window.
    canvas.style.opacity = showCard ? "0.25" : "1";
    renderStats();
  }

  function renderStats() {
    statsBox.hidden = !viewer.statsVisible;
    viewer.statsVisible = !statsBox.hidden;
    if (statsBox.hidden) return;
    const s = viewer.serverStats || {};
    const one = (v) => (typeof v === "number" ? v.toFixed(1) : "–");
    const lines = [
      `${drawnAt.length > 1 ? one((drawnAt.length - 1) / ((drawnAt[drawnAt.length - 1] - drawnAt[0]) / 1000)) : "–"} fps here · ${one(s.fps)} fps received`,
      `${one(s.mbps)} Mbit/s · loss ${s.lossPercent === undefined || s.lossPercent === null ? "–" : `${one(s.lossPercent)}%`}`,
      `latency ${lastLatencyMs === null ? "–" : `${Math.round(lastLatencyMs)} ms`} to this page (receiver ${s.latencyMs == null ? "–" : `${Math.round(s.latencyMs)} ms`})`,
      `picture ${viewer.lastDrawn ? `${viewer.lastDrawn.width}×${viewer.lastDrawn.height}` : "–"}${typeof s.quality === "number" ? ` · quality ${s.quality}` : ""}`,
      audio ? `sound ${audio.context.state === "suspended" ? "off: tap or press a key to hear it" : `${viewer.sound.played} played, ${viewer.sound.late} late, ${viewer.sound.delayMs} ms behind`}` : "",
      viewer.frozen ? "frozen (space to go live)" : "",
    ];
    statsBox.textContent = lines.filter(Boolean).join("\n");
  }

  function toggleStats() {
    viewer.statsVisible = !viewer.statsVisible;
    renderStats();
  }

  function toggleFreeze() {
    viewer.frozen = !viewer.frozen;
    renderStats();
    if (!viewer.frozen) void decodeNewest();
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen?.().catch(() => {});
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "s") toggleStats();
    else if (event.key === "f") toggleFullscreen();
    else if (event.key === " ") toggleFreeze();
    else return;
    event.preventDefault();
  });
  canvas.addEventListener("click", toggleStats);
  canvas.addEventListener("dblclick", toggleFullscreen);
  window.addEventListener("resize", draw);
  setInterval(renderStats, 500);

  connect();
  // Recording, the sound's clock and its tap are set up before the first sound, so none of it goes unrecorded.
  if (recording) audio = startAudio();
}
