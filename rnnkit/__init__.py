"""rnnkit: the code behind the RNN course companion, in the book's reading order.

Every chapter of the book imports what it runs from here; each module holds one
idea. The house conventions, which every public function follows:

**Layout: time-major, everywhere.** A batch of sequences has time first and
batch second, as the equations index it (``x_t`` is ``X[t]``) and as ``nn.RNN``
expects by default:

=================  =============  ===========================================
what               shape          example
=================  =============  ===========================================
token ids          ``(T, B)``     minibatches from :mod:`rnnkit.batching`
input vectors      ``(T, B, d)``  one-hot or embedded ``x_t``
hidden states      ``(T, B, h)``  every ``h_t``; a single state is ``(B, h)``
logits             ``(T, B, V)``  scores for the next token
masks              ``(T, B)``     1 where a position is a real token
forecast windows   ``(L, M, d)``  ``M`` windows of ``L`` steps, targets ``(H, M)``
=================  =============  ===========================================

A single sequence is ``(T,)`` (ids) or ``(T, d)``; add the batch axis with
``X[:, None]``. Nothing in the package transposes between layouts.

**Shape names.** ``T`` time steps, ``B`` batch, ``d`` input size, ``h`` hidden
size, ``V`` vocabulary size, ``S`` source length (encoder–decoder), ``L``
window length and ``H`` horizon (forecasting), ``M`` number of windows.
Arguments that are sizes end in ``_size``: ``vocab_size``, ``input_size``,
``hidden_size``, ``embed_size``, ``batch_size``.

**Weights** use torch's layout and the equations' names, with row-vector
states: ``h_t = phi(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h)`` with ``W_xh``
``(h, d)``, ``W_hh`` ``(h, h)``, ``b_h`` ``(h,)``, ``W_ho`` ``(V, h)``, ``b_o``
``(V,)``, so numpy weights copy straight into ``nn.RNN`` and ``nn.Linear``.

**Randomness**: every function that draws random numbers takes ``seed=`` (an
int, or a generator to share one stream), made into a generator by
:mod:`rnnkit.seeding`; no global random state is changed.

**Losses** live in :mod:`rnnkit.losses`: every loss is a mean over the valid
(unmasked) positions, and :func:`rnnkit.losses.perplexity` is the one place a
perplexity is computed.

**Trainers** keep one contract (:mod:`rnnkit.training`): options ``lr``,
``lr_schedule``, ``clip``, ``seed``, ``progress``; a history of equal-length
lists with ``step``, ``elapsed_s`` and ``train_loss``; a clear stop at the
first non-finite loss.

**Errors**: bad input raises ``TypeError`` (wrong kind of thing) or
``ValueError`` (wrong shape, range or value) naming the argument and what was
expected, through the shared checks in :mod:`rnnkit.shapes`.

**Book and code point at each other**: every display equation in a chapter has
a label, e.g. ``(rnn-hidden)``, and the docstring of each function that
implements it ends with ``Implements chapter 3, equation ``rnn-hidden``.``;
the review chapter lists every label with its functions
(:func:`rnnkit.equations.implementations`).
"""
