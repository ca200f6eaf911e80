;;; eglot_e2e.el --- Emacs 28 + Debian's eglot 1.9, headless: specloop as a user meets it.
;; Run: emacs --batch -q -l eglot_e2e.el   (-q, not -Q: Debian activates elpa-eglot in site-start)
;; Environment: E2E_FILE (the Python file), E2E_CMD (JSON list: the server command),
;; E2E_SETTINGS (JSON object: specloop settings), E2E_OUT (where the JSON result goes),
;; E2E_TIMEOUT (seconds, default 120).
;;
;; What a user does: open the file (eglot starts), put point on the stub, run
;; `eglot-code-actions' and pick "Implement area from spec".  Then it watches what
;; the user sees: the edit in the buffer, the server's messages in the echo area
;; (eglot 1.9 shows no progress), the critic's finding in flymake.  eglot sends
;; the didChange of an applied edit only when its idle timer runs, which a batch
;; Emacs never does: the script sends it late itself, after typing a line above
;; the function, and checks that the finding is still there and moved along.
;; Then a job whose attempt is not applied (perimeter: nothing tests it), and the quick fix
;; "Show the diff of the best attempt" (eglot 1.9 has no window/showDocument: a message names
;; the .diff file).  Last, the README's cancel command.
(require 'eglot)
(require 'python)
(require 'json)

(defvar e2e-out (getenv "E2E_OUT"))
(defvar e2e-timeout (string-to-number (or (getenv "E2E_TIMEOUT") "120")))
(defvar e2e-result (list :steps nil :messages nil :notifications nil))
(defvar e2e-publishes 0)

(defun e2e-put (key value) (setq e2e-result (plist-put e2e-result key value)))
(defun e2e-step (name) (e2e-put :steps (append (plist-get e2e-result :steps) (list name))))
(defun e2e-wait (what pred &optional secs)
  (let ((deadline (+ (float-time) (or secs e2e-timeout))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall pred) (error "timeout waiting for %s" what))))
(defun e2e-finish (ok &optional err)
  (e2e-put :ok (if ok t :json-false))
  (dolist (key '(:steps :notifications))
    (e2e-put key (vconcat (plist-get e2e-result key))))
  (e2e-put :messages (vconcat (mapcar (lambda (m) `((type . ,(car m)) (message . ,(cdr m))))
                                      (plist-get e2e-result :messages))))
  (when err (e2e-put :error err))
  (with-temp-file e2e-out (insert (json-encode e2e-result)))
  (kill-emacs (if ok 0 1)))

;; what the user sees: the server's messages (eglot echoes them) and the notifications it sends
(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql window/showMessage)) &key type message &allow-other-keys)
  (e2e-put :messages (append (plist-get e2e-result :messages) (list (cons type message)))))
(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql textDocument/publishDiagnostics)) &rest _)
  (setq e2e-publishes (1+ e2e-publishes)))
(advice-add 'jsonrpc-notify :before
            (lambda (_conn method &rest _)
              (e2e-put :notifications (append (plist-get e2e-result :notifications)
                                              (list (string-remove-prefix ":" (format "%s" method)))))))

(defun e2e-diagnostics ()
  "The specloop diagnostics flymake shows: message and the text of their line."
  (mapcar (lambda (d)
            (list :message (flymake-diagnostic-text d)
                  :text (save-excursion
                          (goto-char (flymake-diagnostic-beg d))
                          (buffer-substring-no-properties (line-beginning-position) (line-end-position)))))
          (flymake-diagnostics)))

(condition-case err
    (let* ((file (getenv "E2E_FILE"))
           (cmd (append (json-parse-string (getenv "E2E_CMD")) nil))
           (settings (json-parse-string (getenv "E2E_SETTINGS") :object-type 'plist
                                        :false-object :json-false)))
      ;; the configuration a user writes (README, "Emacs (eglot)")
      (setq eglot-confirm-server-initiated-edits nil)
      (add-to-list 'eglot-server-programs `(python-mode . ,cmd))
      (setq-default eglot-workspace-configuration (list :specloop settings))

      (find-file file)
      (python-mode)
      (apply #'eglot (eglot--guess-contact))   ; eglot-ensure waits for a command loop batch mode lacks
      (e2e-wait "the server" (lambda () (eglot-current-server)) 30)
      (e2e-step "started")

      ;; point on the stub, M-x eglot-code-actions, pick the action by its title
      (goto-char (point-min))
      (search-forward "def area")
      (let ((last-nonmenu-event ?\r)     ; a keyboard user: eglot asks with completing-read
            offered)
        (cl-letf (((symbol-function 'completing-read)
                   (lambda (_prompt items &rest _)
                     (setq offered (mapcar #'car items))
                     "Implement area from spec")))
          (eglot-code-actions (point) nil nil t))
        (e2e-put :titles (vconcat offered)))
      (e2e-step "action")
      (e2e-wait "the edit" (lambda () (save-excursion (goto-char (point-min)) (search-forward "return w * h" nil t))))
      (e2e-step "edited")
      (e2e-wait "the final message"
                (lambda () (seq-find (lambda (m) (string-match-p "^specloop: area: passed" (cdr m)))
                                     (plist-get e2e-result :messages))))
      (e2e-step "message")
      (e2e-wait "the finding" (lambda () (e2e-diagnostics)))
      (e2e-put :before (vconcat (e2e-diagnostics)))
      (e2e-put :pending_change (if eglot--recent-changes t :json-false))
      (e2e-step "finding")

      ;; later: the user types a line above the function, and eglot finally sends its didChange
      (accept-process-output nil 1)
      (let ((seen e2e-publishes))
        (goto-char (point-min))
        (search-forward "def area")
        (beginning-of-line)
        (insert "UNIT = 'm'\n\n\n")
        (eglot--signal-textDocument/didChange)
        (e2e-wait "the diagnostics republished" (lambda () (> e2e-publishes seen)) 20))
      (accept-process-output nil 0.2)
      (e2e-put :after (vconcat (e2e-diagnostics)))
      (e2e-put :buffer (buffer-substring-no-properties (point-min) (point-max)))
      (e2e-step "late change")

      ;; a job whose attempt is offered, not applied; its diff from the quick fix
      (eglot-execute-command (eglot-current-server) 'specloop.generate
                             (vector (list :uri (plist-get (eglot--TextDocumentIdentifier) :uri)
                                           :target "perimeter")))
      (e2e-wait "the offered diagnostic"
                (lambda () (seq-find (lambda (d) (string-match-p "was not applied" (plist-get d :message)))
                                     (e2e-diagnostics))))
      (goto-char (point-min))
      (search-forward "def perimeter")
      (let ((last-nonmenu-event ?\r)
            offered)
        (cl-letf (((symbol-function 'completing-read)
                   (lambda (_prompt items &rest _)
                     (setq offered (mapcar #'car items))
                     "Show the diff of the best attempt")))
          (eglot-code-actions (line-beginning-position) (line-end-position) nil t))
        (e2e-put :fixes (vconcat offered)))
      (e2e-wait "the diff's message"
                (lambda () (seq-find (lambda (m) (string-match-p "^specloop: the diff of the result for perimeter is in "
                                                                 (cdr m)))
                                     (plist-get e2e-result :messages))))
      (e2e-step "diff")
      ;; the README's cancel command (nothing runs any more: nothing to cancel)
      (e2e-put :cancel (eglot-execute-command (eglot-current-server) 'specloop.cancel []))
      (ignore-errors (eglot-shutdown (eglot-current-server)))
      (e2e-finish t))
  (error (ignore-errors (e2e-put :buffer (buffer-substring-no-properties (point-min) (point-max))))
         (e2e-finish nil (error-message-string err))))
