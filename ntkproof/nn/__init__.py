"""The mathematics of neural tangent kernels, free of any verification machinery.

Finite networks and their infinite-width kernels from one specification
(``activations``, ``networks``, ``kernels``, ``quadrature``), empirical NTKs
(``empirical_ntk``), training (``training``, ``descent``), the gradient-flow
solution of kernel regression (``flow``) and data sets (``data``). Everything
is written once against the backend interface (numpy, torch, mpmath). This
package never imports the engine, the reports, the plugin or pytest.
"""

from .activations import ACTIVATIONS, SMOOTH_ACTIVATIONS, Activation, get_activation
from .batched import train_seeds
from .empirical_ntk import empirical_ntk, jacobian_ntk, two_layer_ntk
from .flow import gradient_flow, kernel_regression
from .kernels import arccos_kernel, infinite_width, two_layer_relu_ntk
from .networks import MLP, Linearized, Scaled, TwoLayer
from .training import gradient_descent, max_learning_rate, train

__all__ = [
    "ACTIVATIONS", "SMOOTH_ACTIVATIONS", "Activation", "get_activation", "TwoLayer", "MLP",
    "Linearized", "Scaled", "empirical_ntk", "jacobian_ntk", "two_layer_ntk", "infinite_width",
    "arccos_kernel", "two_layer_relu_ntk", "gradient_flow", "kernel_regression", "train",
    "gradient_descent", "max_learning_rate", "train_seeds",
]
