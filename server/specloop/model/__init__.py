"""The model layer: calls through litellm, the embedded local model, record/replay, prompts and the model's errors."""
