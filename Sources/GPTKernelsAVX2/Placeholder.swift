// GPTKernelsAVX2
