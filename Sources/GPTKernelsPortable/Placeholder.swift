// GPTKernelsPortable
