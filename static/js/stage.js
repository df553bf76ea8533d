// The stage viewer: follows a performance over its websocket, or replays it when finished.

const viewer = document.getElementById("viewer");
const performanceId = viewer.dataset.performance;
const transcript = document.getElementById("transcript");
const statusBadge = document.getElementById("status");
const spotSpeaker = document.getElementById("spot-speaker");
const spotDirection = document.getElementById("spot-direction");
const spotText = document.getElementById("spot-text");
const notice = document.getElementById("notice");
const READING_MS_PER_CHAR = 45;

let socket = null;
let countdownTimer = null;

// Colours arrive as data attributes: the Content-Security-Policy allows no inline style.
document.querySelectorAll("[data-colour]").forEach((node) => {
  node.style.setProperty("--actor", node.dataset.colour);
});

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showNotice(message) {
  notice.textContent = message;
  notice.hidden = false;
  setTimeout(() => { notice.hidden = true; }, 6000);
}

function setStatus(status) {
  viewer.dataset.status = status;
  statusBadge.textContent = status.charAt(0).toUpperCase() + status.slice(1);
  statusBadge.className = `badge badge-${status}`;
}

function highlight(character) {
  document.querySelectorAll(".actor").forEach((actor) => {
    actor.classList.toggle("speaking", actor.dataset.character === character);
    if (actor.dataset.character === character) actor.classList.remove("offstage");
  });
}

function renderLine(line) {
  const item = el("li", `line emotion-${line.emotion}`);
  item.dataset.index = line.index;
  item.append(el("span", "speaker", line.speaker));
  item.append(el("span", "emotion", line.emotion));
  if (line.direction) item.append(el("em", "direction", `(${line.direction})`));
  item.append(el("span", "text", line.text));
  if (line.author === "human") item.append(el("span", "tag", "performer"));
  else if (line.understudy) item.append(el("span", "tag", "understudy"));
  return item;
}

function commitLine(line) {
  const existing = transcript.querySelector(`[data-index="${line.index}"]`);
  const item = renderLine(line);
  if (existing) existing.replaceWith(item); else transcript.append(item);
  spotSpeaker.textContent = line.speaker;
  spotDirection.textContent = line.direction ? `(${line.direction})` : "";
  spotText.textContent = line.text;
  spotText.className = `spot-text emotion-${line.emotion}`;
  highlight(line.character);
  item.scrollIntoView({ block: "nearest" });
}

function setAudience(frame) {
  for (const [kind, count] of Object.entries(frame.counts || {})) {
    const counter = document.querySelector(`[data-count="${kind}"]`);
    if (counter) counter.textContent = count;
  }
  const meter = document.getElementById("engagement");
  if (meter && typeof frame.engagement === "number") {
    meter.value = frame.engagement;
    meter.textContent = frame.engagement.toFixed(2);
  }
}

function addChat(frame) {
  const list = document.getElementById("chat");
  const item = el("li", "chat-line");
  item.append(el("strong", "", `${frame.user}: `));
  item.append(document.createTextNode(frame.text));
  list.append(item);
  while (list.children.length > 50) list.firstElementChild.remove();
}

function showCue(frame) {
  const cue = document.getElementById("cue");
  const mine = document.querySelector(`.actor[data-character="${frame.character}"]`);
  if (!cue || !mine || !mine.classList.contains("yours")) return;
  document.getElementById("cue-speaker").textContent = frame.speaker;
  cue.hidden = false;
  const deadline = Date.parse(frame.deadline);
  clearInterval(countdownTimer);
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    document.getElementById("cue-countdown").textContent = `${left} s left`;
    if (left <= 0) { clearInterval(countdownTimer); cue.hidden = true; }
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
  document.getElementById("speak-text").focus();
}

function hideCue() {
  const cue = document.getElementById("cue");
  if (cue) cue.hidden = true;
  clearInterval(countdownTimer);
}

const handlers = {
  snapshot(frame) {
    transcript.replaceChildren(...frame.lines.map(renderLine));
    setStatus(frame.performance.status);
    frame.cast.forEach((member) => {
      const actor = document.querySelector(`.actor[data-character="${member.character}"]`);
      if (actor) {
        actor.classList.toggle("human", member.human);
        actor.classList.toggle("yours", member.yours);
      }
    });
    setAudience(frame.audience);
    if (frame.awaiting) showCue(frame.awaiting);
    if (frame.performance.status === "finished" && frame.lines.length) replay(frame.lines);
  },
  "line.start"(frame) {
    highlight(frame.character);
    spotSpeaker.textContent = frame.speaker;
    spotDirection.textContent = "";
    spotText.textContent = "";
    spotText.className = "spot-text typing";
  },
  "line.delta"(frame) {
    spotText.textContent += frame.text;
  },
  "line.end"(frame) {
    hideCue();
    commitLine(frame);
  },
  "turn.awaiting": showCue,
  status(frame) { setStatus(frame.status); },
  audience: setAudience,
  chat: addChat,
  error(frame) { showNotice(frame.message); },
  pong() {},
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/performances/${performanceId}/`);
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    const handler = handlers[frame.type];
    if (handler) handler(frame);
  });
  socket.addEventListener("close", (event) => {
    if (event.code >= 4000) return;
    const status = viewer.dataset.status;
    if (status !== "finished" && status !== "failed") setTimeout(connect, 2000);
  });
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  else showNotice("Reconnecting to the stage; try again in a moment.");
}

async function replay(lines) {
  for (const line of lines) {
    commitLine(line);
    await new Promise((r) => setTimeout(r, Math.min(6000, 600 + line.text.length * READING_MS_PER_CHAR)));
  }
}

document.querySelectorAll("[data-reaction]").forEach((button) => {
  button.addEventListener("click", () => send({ type: "react", reaction: button.dataset.reaction }));
});

document.getElementById("chat-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("chat-text");
  if (input.value.trim()) send({ type: "chat", text: input.value });
  input.value = "";
});

document.getElementById("speak-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("speak-text");
  send({ type: "speak", text: input.value });
  input.value = "";
});

connect();
