import type { ChatMessage } from "./schemas";

/**
 * A ChatML rendering (the format of the Qwen models this project serves by default). The
 * prompt token count of a chat request is the token count of this text, for usage, /tokenize and
 * the max-model-len check alike.
 */
export function messageText(m: ChatMessage): string {
  const c = m.content;
  if (c == null) return "";
  if (typeof c === "string") return c;
  let out = "";
  for (const part of c) if (part.type === "text" && typeof part.text === "string") out += (out ? "\n" : "") + part.text;
  return out;
}

export function renderChat(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
  let out = "";
  for (const m of messages) out += `<|im_start|>${m.role}\n${messageText(m)}<|im_end|>\n`;
  if (addGenerationPrompt) out += "<|im_start|>assistant\n";
  return out;
}

/** Echo mode replies with the last user message (or the last message of any role). */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === "user") return messageText(messages[i]);
  return messageText(messages[messages.length - 1]);
}
