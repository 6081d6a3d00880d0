"""Answer generation: prompts, answerers (offline, LLM), citation checking."""
