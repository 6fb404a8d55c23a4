print("gpt-bench: not yet implemented")
