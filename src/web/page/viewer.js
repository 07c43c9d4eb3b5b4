// udpvid's browser viewer: the receiver's newest frame, drawn on a canvas.
// No framework, nothing fetched from elsewhere. The byte layout of a picture
// message is drawn in src/web/web-messages.ts.
"use strict";

const PICTURE = 0x01;
const VERSION = 1;
const HEADER = 24;
const CLOSE_STALLED = 4001;

const canvas = document.getElementById("picture");
const context = canvas.getContext("2d");
const card = document.getElementById("card");
const statsBox = document.getElementById("stats");
const token = new URLSearchParams(location.search).get("token");

// What the tests (and a curious user, in the console) can read.
const viewer = (window.udpvidViewer = {
  state: "connecting",
  framesDrawn: 0,
  lastDrawn: null,
  statsVisible: false,
  frozen: false,
  serverStats: null,
});

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
    const bitmap = await createImageBitmap(new Blob([frame.jpeg], { type: "image/jpeg" }));
    if (shown) shown.bitmap.close();
    shown = { bitmap, frameNumber: frame.frameNumber };
    draw();
    const heldMs = performance.now() - frame.arrivedMs;
    if (frame.ageMs !== null) lastLatencyMs = frame.ageMs + heldMs;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "drawn", frame: frame.frameNumber, sentAtMs: frame.sentAtMs, heldMs }));
    viewer.framesDrawn++;
    viewer.lastDrawn = { frameNumber: frame.frameNumber, width: bitmap.width, height: bitmap.height };
    const now = performance.now();
    drawnAt.push(now);
    while (drawnAt.length && drawnAt[0] < now - 2000) drawnAt.shift();
  } catch {
    // A frame the browser cannot decode is skipped; the next one comes.
  } finally {
    decoding = false;
  }
  if (newest) void decodeNewest();
}

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
