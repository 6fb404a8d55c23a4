// GPTKernelCore
