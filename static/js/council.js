// The council page: ask each agent in turn, show answers as they arrive, then the synthesis.

const form = document.getElementById("council-form");
const status = document.getElementById("council-status");
const synthesis = document.getElementById("council-synthesis");

function csrfToken() {
  const cookie = document.cookie.split("; ").find((row) => row.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok || data === null) {
    const fallback = `The server answered ${response.status}; please try again.`;
    throw new Error((data && data.error) || fallback);
  }
  return data;
}

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function showAnswer(card, answer) {
  const paragraph = card.querySelector(".council-answer");
  paragraph.replaceChildren();
  paragraph.classList.remove("quiet", "error");
  const emotion = document.createElement("span");
  emotion.className = "council-emotion";
  emotion.textContent = answer.emotion;
  paragraph.append(emotion);
  if (answer.direction) {
    const direction = document.createElement("span");
    direction.className = "council-direction";
    direction.textContent = `(${answer.direction})`;
    paragraph.append(direction);
  }
  paragraph.append(document.createTextNode(answer.text));
}

function showError(card, message) {
  const paragraph = card.querySelector(".council-answer");
  paragraph.textContent = message;
  paragraph.classList.remove("quiet");
  paragraph.classList.add("error");
}

async function askCouncil(task) {
  const cards = [...document.querySelectorAll(".council-card")];
  const answerUrl = (agent) =>
    form.dataset.answerUrl.replace("__agent__", encodeURIComponent(agent));
  synthesis.hidden = true;
  for (const card of cards) {
    const paragraph = card.querySelector(".council-answer");
    paragraph.textContent = "Waiting for its turn.";
    paragraph.className = "council-answer quiet";
  }
  let answered = 0;
  for (const card of cards) {
    say(`${card.dataset.name} is thinking…`);
    card.classList.add("thinking");
    try {
      showAnswer(card, await post(answerUrl(card.dataset.agent), { task }));
      answered += 1;
    } catch (error) {
      showError(card, error.message);
    } finally {
      card.classList.remove("thinking");
    }
  }
  if (answered === 0) {
    say("No agent could answer, so there is nothing to synthesise.", true);
    return;
  }
  say("The council is summing up…");
  try {
    const result = await post(form.dataset.synthesisUrl, { task });
    synthesis.querySelector(".council-solution").textContent = result.solution;
    synthesis.hidden = false;
    say(`The council has answered (${answered} of ${cards.length} agents).`);
  } catch (error) {
    say(error.message, true);
  }
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const task = form.elements.task.value.trim();
    if (!task) {
      say("Write a problem or task first.", true);
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await askCouncil(task);
    } finally {
      button.disabled = false;
    }
  });
}
