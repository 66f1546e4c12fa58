#include "parallel.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>

namespace obscura {

namespace {

// Idle threads wait for work on one queue. `waiting` counts those not yet
// promised a task: a call takes one of them, else starts a thread, so a
// queued task always has a thread that will run it.
struct Pool {
    std::mutex lock;
    std::condition_variable wake;
    std::deque<std::packaged_task<void()>> queue;
    int waiting = 0;
};

// Never destroyed: its threads outlive static destruction at exit. A
// forked child has none of the parent's threads, so it starts a pool of
// its own (the lock is held across the fork, so the parent's state is
// never copied mid-change).
Pool*& current_pool() {
    static Pool* pool = [] {
        pthread_atfork([] { current_pool()->lock.lock(); }, [] { current_pool()->lock.unlock(); },
                       [] { current_pool() = new Pool; });
        return new Pool;
    }();
    return pool;
}

void run_queue(Pool* p, std::packaged_task<void()> first) {
    first();
    std::unique_lock<std::mutex> hold(p->lock);
    for (;;) {
        ++p->waiting;
        p->wake.wait(hold, [&] { return !p->queue.empty(); });
        std::packaged_task<void()> task = std::move(p->queue.front());
        p->queue.pop_front();
        hold.unlock();
        task();
        hold.lock();
    }
}

}  // namespace

Task run_on_worker(std::function<void()> work) {
    std::packaged_task<void()> task(std::move(work));
    Task done(task.get_future());
    Pool* p = current_pool();
    {
        std::lock_guard<std::mutex> hold(p->lock);
        if (p->waiting > 0) {
            --p->waiting;
            p->queue.push_back(std::move(task));
            p->wake.notify_one();
            return done;
        }
    }
    std::thread(run_queue, p, std::move(task)).detach();
    return done;
}

void wait_all(std::vector<Task>& tasks) {
    std::exception_ptr first;
    for (Task& t : tasks) {
        try {
            t.get();
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace obscura
