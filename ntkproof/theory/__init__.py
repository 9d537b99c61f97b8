"""Mathematics particular to one theorem file: exact smoothness constants and the
Taylor-remainder derivation (``smoothness``, ``taylor``), Walsh eigenvalues on the
hypercube (``walsh``), the exact supremum of Lemma 4.1 (``relu_linearization``),
the NTK look-ahead and active learning (``lookahead``, ``active_learning``), the
tangent-kernel edge (``tangent_edge``), random features (``random_features``),
certified local minima (``local_minima``, ``arb_spectrum``) and the Gram matrices of
over-parameterised gradient descent (``overparameterized``).

Like :mod:`ntkproof.nn`, it never imports the engine, the reports, the plugin or
pytest. Import the modules themselves (nothing is imported here, so ``import
ntkproof`` stays light).
"""
