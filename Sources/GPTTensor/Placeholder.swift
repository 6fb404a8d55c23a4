// GPTTensor
