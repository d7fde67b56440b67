import keras
import numpy as np
import pytest

from keras_attention import training
from keras_attention.models import Seq2Seq


def compiled(**kwargs):
    model = Seq2Seq(12, 10, units=8, embedding_dim=4)
    training.compile_for_training(model, learning_rate=0.004, **kwargs)
    return model.optimizer


def learning_rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_the_learning_rate_decays_along_a_cosine_to_five_percent():
    optimizer = compiled(total_steps=100)
    rates = [learning_rate_at(optimizer, step) for step in (0, 50, 100)]
    np.testing.assert_allclose(rates, [0.004, 0.004 * (0.05 + 0.95 * 0.5), 0.004 * 0.05], rtol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"total_steps": 100, "cosine_decay": False}])
def test_the_learning_rate_is_constant_without_steps_or_decay(kwargs):
    optimizer = compiled(**kwargs)
    assert [learning_rate_at(optimizer, step) for step in (0, 100)] == pytest.approx([0.004, 0.004])


def test_a_warmup_rises_linearly_to_the_peak_then_the_cosine_decays():
    optimizer = compiled(total_steps=100, warmup=0.1)
    rates = [learning_rate_at(optimizer, step) for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(
        rates, [0.0, 0.002, 0.004, 0.004 * (0.05 + 0.95 * 0.5), 0.004 * 0.05], rtol=1e-5, atol=1e-9
    )


@pytest.mark.tensorflow_only
def test_early_stopping_keeps_the_best_epochs_weights_not_the_last(monkeypatch):
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(64, seed=5)
    translator = training.build_translator(pairs, units=8, embedding_dim=4)
    # The dev WER after each epoch, set by hand: best at epochs 2 and 3 (the
    # later of equals is kept), then epochs 3 and 4 without improvement (an
    # equal WER is not one) stop training.
    scripted = iter([0.5, 0.3, 0.3, 0.4, 0.1])
    monkeypatch.setattr(
        training,
        "evaluate",
        lambda *args, **kwargs: {
            "exact_match": 0.0,
            "wer": next(scripted),
            "token_error_rate": 0.0,
            "sources": [],
        },
    )

    class Snapshots(keras.callbacks.Callback):
        weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    evaluation = training.DecodedEvaluation(
        translator, pairs, label="dev", print_fn=lambda *_: None
    )
    logged = []
    history = training.fit(
        translator,
        pairs,
        epochs=5,
        batch_size=16,
        verbose=0,
        callbacks=[
            evaluation,
            training.early_stopping("dev", patience=2),
            Snapshots(),
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: logged.append(dict(logs))
            ),
        ],
    )
    assert len(history.history["loss"]) == 4  # stopped after epoch 4
    assert [logs["best_epoch"] for logs in logged] == [1, 2, 3, 3]
    assert [logs["dev_wer"] for logs in logged] == [0.5, 0.3, 0.3, 0.4]
    assert evaluation.best_epoch == 3 and evaluation.best_score == 0.3
    final = translator.model.get_weights()
    for kept, best in zip(final, Snapshots.weights[2]):
        np.testing.assert_array_equal(kept, best)
    for other in (
        Snapshots.weights[1],
        Snapshots.weights[-1],
    ):  # not the first of equals, not the last epoch
        assert any(not np.array_equal(kept, weights) for kept, weights in zip(final, other))


@pytest.mark.tensorflow_only
def test_evaluate_decodes_each_source_once_and_accepts_any_of_its_targets():
    from keras_attention.text.vectorizer import TextVectorizer
    from keras_attention.tokens import RESERVED_TOKENS

    class Stub:
        """A translator whose outputs are set by hand."""

        target_vectorizer = TextVectorizer(list(RESERVED_TOKENS), split="words")
        asked = []

        def translate(self, sources, beam_width=1, n_best=None):
            self.asked.append(list(sources))
            return {"translation": [{"read": "R EH D", "cat": "K AA T"}[s] for s in sources]}

    pairs = [("read", "R IY D"), ("cat", "K AE T"), ("read", "R EH D")]
    result = training.evaluate(Stub(), pairs)
    assert Stub.asked == [["read", "cat"]]
    assert result["sources"] == ["read", "cat"] and result["translations"] == ["R EH D", "K AA T"]
    assert result["exact_match"] == 0.5 and result["wer"] == 0.5
    assert result["token_error_rate"] == pytest.approx(1 / 6)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_time_budget_sets_the_learning_rate_from_the_time_spent():
    # The same warmup and cosine as the step schedule above, in time.
    budget = training.TimeBudget(600, learning_rate=0.004, warmup=0.1)
    rates = [budget.learning_rate_at(share) for share in (0.0, 0.05, 0.1, 0.55, 1.0, 1.5)]
    np.testing.assert_allclose(
        rates,
        [0.0, 0.002, 0.004, 0.004 * (0.05 + 0.95 * 0.5), 0.004 * 0.05, 0.004 * 0.05],
        rtol=1e-6,
    )
    assert training.TimeBudget(600, learning_rate=0.004).learning_rate_at(0.0) == pytest.approx(
        0.004
    )


@pytest.mark.tensorflow_only
def test_a_time_budget_stops_training_in_the_batch_that_spends_it():
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(64, seed=5)
    translator = training.build_translator(pairs, units=8, embedding_dim=4)
    clock = FakeClock()
    budget = training.TimeBudget(30.0, learning_rate=0.004, clock=clock)
    rates, epochs_run = [], []

    class Tick(keras.callbacks.Callback):
        # Runs after TimeBudget set the rate: records it, then 1 s passes.
        def on_train_batch_begin(self, batch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
            clock.now += 1.0

        def on_epoch_end(self, epoch, logs=None):
            epochs_run.append(epoch + 1)

    training.compile_for_training(translator.model, learning_rate=0.004, cosine_decay=False)
    dataset = training.make_dataset(
        pairs, translator.source_vectorizer, translator.target_vectorizer, batch_size=16, epochs=20
    )
    batches_per_epoch = int(dataset.cardinality()) // 20
    translator.model.fit(
        dataset,
        epochs=20,
        steps_per_epoch=batches_per_epoch,
        callbacks=[budget, Tick()],
        shuffle=False,  # the dataset has its own order; Keras warns otherwise
        verbose=0,
    )
    # The 30th batch ends with 30 s spent: training stops after it, whatever
    # the 20 epochs asked for, and the epoch it was in still ends.
    assert len(rates) == 30
    np.testing.assert_allclose(
        rates, [budget.learning_rate_at(step / 30) for step in range(30)], rtol=1e-6
    )
    assert rates[0] == pytest.approx(0.004) and rates[-1] < rates[0] * 0.1
    assert budget.stopped_epoch == epochs_run[-1] == -(-30 // batches_per_epoch) < 20
    assert budget.stopped_step == 30 - (budget.stopped_epoch - 1) * batches_per_epoch


@pytest.mark.tensorflow_only
def test_fit_with_a_time_budget_trains_at_least_one_batch_and_reports_it():
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(64, seed=5)
    translator = training.build_translator(pairs, units=8, embedding_dim=4)
    history = training.fit(translator, pairs, epochs=3, batch_size=16, time_budget=1e-9, verbose=0)
    assert history.epoch == [0] and history.time_budget.stopped_epoch == 1
    assert history.time_budget.stopped_step == 1
    assert training.fit(translator, pairs, epochs=1, batch_size=16, verbose=0).time_budget is None


@pytest.mark.tensorflow_only
def test_fit_traces_the_training_step_once_over_batches_of_several_shapes():
    # Keras builds an unbuilt optimizer inside the first step, and creating
    # its slots there makes tf.function trace the step again.
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(300, seed=2)
    translator = training.build_translator(pairs, units=8, embedding_dim=4)
    model, traces = translator.model, []
    train_step = model.train_step
    model.train_step = lambda data: traces.append(data) or train_step(data)
    training.fit(translator, pairs, epochs=2, batch_size=32, verbose=0)
    assert len(traces) == 1
    assert traces[0][0][0].shape.as_list() == [None, None]  # any batch, any length


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"learning_rate": -0.003},
            "`learning_rate` must be a positive number. Received: learning_rate=-0.003",
        ),
        ({"learning_rate": 0}, "Received: learning_rate=0"),
        ({"learning_rate": "0.003"}, "Received: learning_rate='0.003'"),
        (
            {"clip_norm": 0},
            "`clip_norm` must be a positive number, or None not to clip. Received: clip_norm=0",
        ),
        ({"warmup": 1}, "`warmup` must be a number in [0, 1). Received: warmup=1"),
        ({"warmup": float("nan")}, "Received: warmup=nan"),
        (
            {"label_smoothing": 1.5},
            "`label_smoothing` must be a number in [0, 1). Received: label_smoothing=1.5",
        ),
    ],
)
def test_bad_training_rates_are_refused_before_compiling(kwargs, message):
    model = Seq2Seq(12, 10, units=8, embedding_dim=4)
    with pytest.raises(ValueError) as error:
        training.compile_for_training(model, total_steps=100, **kwargs)
    assert message in str(error.value)
    if not {"clip_norm", "label_smoothing"} & set(kwargs):  # the budget takes the same rates
        with pytest.raises(ValueError) as error:
            training.TimeBudget(600, **kwargs)
        assert message in str(error.value)


def test_numpy_rates_compile_and_no_clip_norm_does_not_clip():
    optimizer = compiled(total_steps=100, warmup=np.float32(0.1), clip_norm=None)
    assert optimizer.global_clipnorm is None
    assert learning_rate_at(optimizer, 10) == pytest.approx(0.004)
    budget = training.TimeBudget(
        np.float32(600), learning_rate=np.float64(0.004), warmup=np.float32(0.5)
    )
    assert type(budget.seconds) is float and budget.learning_rate_at(0.25) == pytest.approx(0.002)


@pytest.mark.parametrize("seconds", [0, -5, "10", True, None, float("nan"), float("inf")])
def test_a_time_budget_must_be_a_positive_number_of_seconds(seconds):
    with pytest.raises(
        ValueError,
        match=r"`time_budget` must be a positive number of seconds. Received: time_budget=",
    ):
        training.TimeBudget(seconds)


class EpochWeights(keras.callbacks.Callback):
    """The model's weights after each epoch, before any averaging."""

    def __init__(self):
        super().__init__()
        self.after = []

    def on_epoch_end(self, epoch, logs=None):
        self.after.append(self.model.get_weights())


def small_translator(pairs):
    keras.utils.set_random_seed(0)
    return training.build_translator(pairs, units=8, embedding_dim=4)


@pytest.mark.tensorflow_only
def test_averaged_weights_are_the_mean_of_the_last_epochs_weights():
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(200, seed=1)
    translator, seen = small_translator(pairs), EpochWeights()
    history = training.fit(
        translator, pairs, epochs=4, batch_size=64, verbose=0, callbacks=[seen], average_epochs=3
    )
    assert history.average.averaged == [2, 3, 4]
    for got, *epochs in zip(translator.model.get_weights(), *seen.after[1:]):
        np.testing.assert_allclose(got, np.mean(epochs, axis=0), rtol=1e-6, atol=1e-7)
    assert not np.allclose(translator.model.get_weights()[0], seen.after[-1][0])


class Interrupted(Exception):
    pass


@pytest.mark.tensorflow_only
def test_averaging_resumed_from_a_backup_averages_what_an_uninterrupted_run_does(tmp_path):
    from keras_attention.data.generators import date_pairs

    pairs = date_pairs(200, seed=1)
    options = dict(epochs=4, batch_size=64, verbose=0, average_epochs=3)
    reference = small_translator(pairs)
    training.fit(reference, pairs, **options)

    class InterruptEpoch4(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise Interrupted

    resumed = small_translator(pairs)
    with pytest.raises(Interrupted):
        training.fit(resumed, pairs, backup_dir=tmp_path, callbacks=[InterruptEpoch4()], **options)
    assert sorted(p.name for p in (tmp_path / "average").iterdir()) == [
        f"epoch-{n}.npz" for n in (1, 2, 3)
    ]
    resumed = small_translator(pairs)
    history = training.fit(resumed, pairs, backup_dir=tmp_path, **options)
    assert history.average.averaged == [2, 3, 4]
    for got, want in zip(resumed.model.get_weights(), reference.model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not tmp_path.exists()  # the backup, copies included, is gone
