// GPTKernelsAVX512
