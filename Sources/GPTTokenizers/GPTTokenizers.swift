// GPTTokenizers: see DESIGN and the issues; filled in by later work.
