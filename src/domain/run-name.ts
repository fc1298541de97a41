import { randomInt } from "node:crypto";

// MLflow gives unnamed runs a readable random name ("bustling-fish-123"); so does Logbook.
const ADJECTIVES = [
  "able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "fleet", "gentle", "glad",
  "grand", "keen", "kind", "lively", "lucky", "merry", "nimble", "noble", "polite", "proud", "quick", "quiet",
  "rare", "sharp", "shy", "silent", "smart", "steady", "sunny", "swift", "tidy", "warm", "wise", "zesty",
];
const NOUNS = [
  "ant", "bass", "bear", "bee", "cat", "crab", "crow", "deer", "dove", "eel", "elk", "finch", "fish", "fox",
  "frog", "goat", "hare", "hawk", "horse", "lark", "lion", "lynx", "mole", "moth", "newt", "owl", "ox", "ram",
  "seal", "shrew", "slug", "snail", "swan", "toad", "trout", "wolf", "wren", "yak",
];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
