# %% [markdown]
# # Sprig from Python: a sparse MLP on Fashion-MNIST
#
# A notebook-style script (the `# %%` cells run in Jupyter, VS Code or as a plain script):
# train a 784-1024-512-10 network at 1 % density, plot the accuracy per epoch, save the weights.
#
#     pip install ./python matplotlib        # from the repository's root
#     python python/examples/train_fashion_mnist.py

# %%
import sprig

(x_train, y_train), (x_test, y_test) = sprig.datasets.fashion_mnist()   # uint8 pixels, read in place
model = sprig.MLP([784, 1024, 512, 10], overall_density=0.01, layers="ReLU;ReLU;Linear",
                  optimizer="nesterov:0.9", learning_rate=0.1, seed=1)

# %%
history = model.fit(x_train, y_train, epochs=10, batch_size=100, validation=(x_test, y_test), progress=True)
print(f"test accuracy after {len(history)} epochs: {100 * history[-1]['test_accuracy']:.2f} %")
print(model)                                                  # MLP([784, 1024, 512, 10], …) — trained 10 epochs on uint8 features
labels = model.predict(x_test)                                # class indices; predict_proba(x_test) gives probabilities
print(f"model.score: {100 * model.score(x_test, y_test):.2f} %, first predictions {labels[:10]}")

# %%
import matplotlib

matplotlib.use("Agg")   # no display needed; drop this line in a notebook
import matplotlib.pyplot as plt

epochs = [e["epoch"] for e in history]
plt.plot(epochs, [100 * e["train_accuracy"] for e in history], label="training (as trained)")
plt.plot(epochs, [100 * e["test_accuracy"] for e in history], label="test")
plt.xlabel("epoch")
plt.ylabel("accuracy (%)")
plt.title("784-1024-512-10 at 1 % density (CSR weights)")
plt.legend()
plt.savefig("accuracy.png", dpi=120)
print("accuracy per epoch plotted to accuracy.png")

# %%
model.save("fashion-mnist-1pct.npz")   # SciPy CSR arrays per layer: W1.data, W1.indices, …
weights = model.weights()
print("nonzeros per layer:", [w.nnz if hasattr(w, "nnz") else w.size for w, _ in weights])
