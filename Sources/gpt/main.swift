print("gpt: not yet implemented")
