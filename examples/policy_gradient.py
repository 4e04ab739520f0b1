"""REINFORCE on cart-pole: a policy network written as a bprop.Module, trained through autograd.

The cart-pole is the classic one of Barto, Sutton and Anderson (1983), with the constants and the Euler
step of OpenAI Gym's CartPole-v0, written here in NumPy: a pole falls past 12 degrees or the cart leaves
[-2.4, 2.4] and the episode ends; every step earns 1, and an episode stops at 200 steps. It counts as
solved when the last 100 episodes return 195 on average.

Each update plays a batch of episodes side by side (the environments are one NumPy array, so the policy
runs on a batch of states per step), then takes one Adam step on the policy-gradient loss, with
discounted returns normalised into advantages. Training stops once solved; the last policy is then also
played on 100 new episodes, a figure printed but not asserted (REINFORCE's policy is still moving, and
"solved" is Gym's criterion above).
Run: python examples/policy_gradient.py [--seed N]
"""
import argparse
import time
from collections import deque

import numpy as np

import bprop
from bprop import nn, optim


class CartPole:
    """n cart-poles stepped together; state columns are x, x_dot, theta, theta_dot (Gym's order)."""

    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    total_mass = masscart + masspole
    polemass_length = masspole * length  # length is half the pole's
    x_threshold, theta_threshold = 2.4, 12 * 2 * np.pi / 360
    max_steps = 200

    def __init__(self, n, rng):
        self.n, self.rng = n, rng

    def reset(self):
        self.state = self.rng.uniform(-0.05, 0.05, (self.n, 4))
        return self.state.astype(np.float32)

    def step(self, actions):
        """Pushes left (0) or right (1); returns the new states and which poles have fallen."""
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(actions == 1, self.force_mag, -self.force_mag)
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + self.polemass_length * theta_dot ** 2 * sin) / self.total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * cos ** 2 / self.total_mass))
        x_acc = temp - self.polemass_length * theta_acc * cos / self.total_mass
        self.state = np.stack([x + self.tau * x_dot, x_dot + self.tau * x_acc,
                               theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc], axis=1)
        fallen = (np.abs(self.state[:, 0]) > self.x_threshold) | (np.abs(self.state[:, 2]) > self.theta_threshold)
        return self.state.astype(np.float32), fallen


class Policy(bprop.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 64), nn.Linear(64, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())  # logits of pushing left, right


def play(policy, env, rng):
    """One episode in each environment. Returns states (T, n, 4), actions (T, n) and alive (T, n): whether
    the episode was still running at step t (each such step earns a reward of 1)."""
    states, actions, alive = [], [], []
    state, running = env.reset(), np.ones(env.n, dtype=bool)
    for _ in range(env.max_steps):
        with bprop.no_grad():
            probs = policy(bprop.tensor(state)).softmax().numpy()
        action = (rng.random(env.n) < probs[:, 1]).astype(np.int64)
        states.append(state)
        actions.append(action)
        alive.append(running)
        state, fallen = env.step(action)
        running = running & ~fallen
        if not running.any():
            break
    return np.stack(states), np.stack(actions), np.stack(alive)


def discounted_returns(rewards, gamma):
    """G_t = r_t + gamma * G_{t+1}, along the time axis (axis 0)."""
    returns, running = np.zeros_like(rewards), np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    episodes_per_update, gamma, target, max_episodes = 8, 0.99, 195.0, 4000
    bprop.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    env = CartPole(episodes_per_update, rng)
    policy = Policy()
    opt = optim.Adam(policy.parameters(), lr=1e-2)

    recent: deque[float] = deque(maxlen=100)  # the last 100 episodes' returns
    episodes, start = 0, time.perf_counter()
    mean_return = 0.0
    while episodes < max_episodes:
        states, actions, alive = play(policy, env, rng)
        recent.extend(alive.sum(axis=0))
        episodes += env.n

        # The steps actually played, flattened; their normalised returns are the advantages (a baseline).
        returns = discounted_returns(alive.astype(np.float32), gamma)[alive]
        advantages = (returns - returns.mean()) / (returns.std() + 1e-8)
        states, actions = states[alive], actions[alive]

        logp = policy(bprop.tensor(states)).log_softmax(axis=-1)
        chosen = logp[np.arange(len(actions)), actions]
        loss = -(chosen * bprop.tensor(advantages)).sum() / env.n  # the gradient estimate, per episode
        opt.zero_grad()
        loss.backward()
        opt.step()

        mean_return = float(np.mean(recent))
        if episodes % 80 == 0:
            print(f"episode {episodes:5d}  mean return (last 100) {mean_return:6.1f}  "
                  f"{time.perf_counter() - start:5.1f} s")
        if len(recent) == recent.maxlen and mean_return >= target:
            break

    elapsed = time.perf_counter() - start
    print(f"seed {args.seed}: mean return {mean_return:.1f} over the last {len(recent)} episodes after "
          f"{episodes} episodes, {elapsed:.1f} s")
    _, _, alive = play(policy, CartPole(100, rng), rng)
    print(f"the final policy returns {alive.sum(axis=0).mean():.1f} on average over 100 new episodes")
    assert mean_return >= target, f"cart-pole not balanced: mean return {mean_return:.1f} < {target}"


if __name__ == "__main__":
    main()
